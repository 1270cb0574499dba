// Package peer is a real member's side of the peer network, on the TCP transport
// (host/tcp): it frames the server's messages (rsm.EncodeMessage) and hands the frames it
// receives to the driver, dropping those from senders outside the cluster; it keeps the
// transport's peers in step with the member table the server announces; it answers a
// joining member's question on the peer port with rsm.AnswerMembersQuery; and Join runs a
// joining member's rsm.Joiner, asking the contacts it names with tcp.Query.
//
// What is sent, to whom, when to retry and what an answer means are the components'
// (node/rsm); this package only moves bytes and keeps addresses.
package peer
