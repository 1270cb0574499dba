package bench

// Microbenchmarks of hot paths that live in packages other helpers own (node/raft,
// node/rsm): they use only those packages' exported API, so they can sit here. The MVCC
// benchmarks are in node/kv, the frame codec's in host/tcp, the disk's in
// host/disk; `make bench-sim` runs them all with -benchmem.

import (
	"math/rand/v2"
	"testing"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
)

// cluster is n raft nodes exchanging messages in memory, each with a MemoryStorage.
type cluster struct {
	nodes map[uint64]*raft.Node
	store map[uint64]*raft.MemoryStorage
}

func newCluster(tb testing.TB, n int) *cluster {
	cl := &cluster{nodes: map[uint64]*raft.Node{}, store: map[uint64]*raft.MemoryStorage{}}
	var peers []uint64
	for id := uint64(1); id <= uint64(n); id++ {
		peers = append(peers, id)
	}
	for _, id := range peers {
		st := raft.NewMemoryStorage()
		nd, err := raft.NewNode(raft.Config{ID: id, Peers: peers, Storage: st, Rand: rand.New(rand.NewPCG(id, 1))})
		if err != nil {
			tb.Fatal(err)
		}
		cl.nodes[id], cl.store[id] = nd, st
	}
	if err := cl.nodes[1].Campaign(); err != nil {
		tb.Fatal(err)
	}
	cl.stabilize(tb)
	return cl
}

// stabilize carries out every node's Ready (append to storage, deliver messages, advance)
// until none has anything left: one "round" of the protocol.
func (cl *cluster) stabilize(tb testing.TB) {
	for more := true; more; {
		more = false
		for id := uint64(1); id <= uint64(len(cl.nodes)); id++ {
			nd := cl.nodes[id]
			if !nd.HasReady() {
				continue
			}
			more = true
			rd := nd.Ready()
			if !rd.HardState.IsEmpty() {
				cl.store[id].SetHardState(rd.HardState)
			}
			if err := cl.store[id].Append(rd.Entries); err != nil {
				tb.Fatal(err)
			}
			for _, m := range append(rd.Messages, rd.MessagesAfterSync...) {
				cl.nodes[m.To].Step(m) //nolint:errcheck // stale messages are refused, as on a network
			}
			if err := nd.Advance(); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkRaftAppend is one proposal of 256 B replicated to and committed by 3 (or 1)
// voters in memory: the raft work behind every put, without disk or network.
func BenchmarkRaftAppend(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(map[int]string{1: "voters=1", 3: "voters=3"}[n], func(b *testing.B) {
			cl := newCluster(b, n)
			data := make([]byte, 256)
			b.ReportAllocs()
			for b.Loop() {
				if err := cl.nodes[1].Propose(data); err != nil {
					b.Fatal(err)
				}
				cl.stabilize(b)
			}
		})
	}
}

// BenchmarkRaftAppendBatch is 64 proposals per round, as under 64 concurrent clients:
// ns/op is per round, entries/s the raft-side ceiling.
func BenchmarkRaftAppendBatch(b *testing.B) {
	cl := newCluster(b, 3)
	data := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		for range 64 {
			if err := cl.nodes[1].Propose(data); err != nil {
				b.Fatal(err)
			}
		}
		cl.stabilize(b)
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkRSMWire encodes and decodes the client messages a follower forwards to the
// leader (a Request carrying a 300-byte put) and the leader's Reply.
func BenchmarkRSMWire(b *testing.B) {
	payload := make([]byte, 300)
	msgs := map[string]c.Message{
		"request": rsm.Request{Client: 1<<40 | 12345, Seq: 7, Payload: payload},
		"reply":   rsm.Reply{Client: 1<<40 | 12345, Seq: 7, Result: payload[:40]},
	}
	for _, name := range []string{"request", "reply"} {
		m := msgs[name]
		b.Run("encode/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rsm.EncodeMessage(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		enc, err := rsm.EncodeMessage(m)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("decode/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rsm.DecodeMessage(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
