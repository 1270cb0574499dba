package rsm

import (
	"fmt"
	"time"

	c "github.com/orrery/orrery/node/component"
)

// Joining a running cluster (etcd's --initial-cluster-state existing). A member whose data
// dir is empty and that was added to the cluster (etcdctl member add) does not know its ID:
// the cluster chose it. The Joiner asks the members of its cluster list for the member
// table (MembersQuery, answered by AnswerMembersQuery) until one lists its peer URL, and
// tells its driver the identity it found (Joined); the member then starts its server with
// that ID and no raft configuration, and waits for the leader.

// MembersQuery asks a member for the cluster ID and the member table. It is the one
// question a caller that is not a member yet may ask on a member's peer port.
type MembersQuery struct{}

// MembersAnswer answers a MembersQuery: the cluster's ID and the member table as the
// answering member knows it.
type MembersAnswer struct {
	ClusterID uint64
	Members   []Member
}

func (MembersQuery) String() string { return "members-query" }
func (m MembersAnswer) String() string {
	return fmt.Sprintf("members-answer cluster=%d %s", m.ClusterID, formatMembers(m.Members))
}

// AnswerMembersQuery is a running member's answer to q (a query's wire form): the wire
// form of a MembersAnswer with its cluster ID and table, or nil if q is no MembersQuery.
func AnswerMembersQuery(q []byte, clusterID uint64, table []Member) []byte {
	if m, err := DecodeMessage(q); err != nil || m != (MembersQuery{}) {
		return nil
	}
	b, _ := EncodeMessage(MembersAnswer{ClusterID: clusterID, Members: table})
	return b
}

// JoinConfig describes a joining member and whom it may ask.
type JoinConfig struct {
	// Name and PeerURL are the joiner's: it finds itself in the member table by PeerURL;
	// Name is for the hint when the table lacks it.
	Name, PeerURL string
	// Contacts are the members of the cluster list, asked one at a time in this order;
	// one with the joiner's own peer URL is skipped. The driver reaches Contacts[i] as
	// NodeID i+1.
	Contacts []Contact
	// Timeout ends the asking: a round of asks that ends after it is the last (default
	// 10 s). AskTimeout bounds one ask (default 1 s); Retry is the pause between rounds
	// (default 200 ms).
	Timeout, AskTimeout, Retry time.Duration
}

// Contact is a member of a joiner's cluster list.
type Contact struct {
	Addr    string // where the driver asks it (for messages only)
	PeerURL string
}

// Asked is the driver's report of one ask of contact From: the answer's wire form, or why
// there is none (Err: the question could not be sent or answered).
type Asked struct {
	From   c.NodeID
	Answer []byte
	Err    string
}

func (a Asked) String() string {
	return fmt.Sprintf("asked from=%s answer=%x err=%q", a.From, a.Answer, a.Err)
}

// Joined tells the driver the identity the joiner found; the joiner is done. A joiner
// that gives up halts instead, with the reason (the last ask's outcome).
type Joined struct{ Identity Identity }

func (Joined) Notice()          {}
func (j Joined) String() string { return "joined " + j.Identity.String() }

const (
	timerJoinAsk = iota + 1
	timerJoinRound
)

// Joiner is the component that finds a joining member's identity. Build it with NewJoiner.
type Joiner struct {
	cfg      JoinConfig
	ask      []c.NodeID // the contacts to ask in each round
	next     int        // ask[next] is being asked; len(ask) between rounds
	deadline time.Duration
	err      string // what the last finished ask said
	done     bool
}

// NewJoiner returns a joiner for cfg.
func NewJoiner(cfg JoinConfig) *Joiner {
	cfg.Timeout = cmpOr(cfg.Timeout, 10*time.Second)
	cfg.AskTimeout = cmpOr(cfg.AskTimeout, time.Second)
	cfg.Retry = cmpOr(cfg.Retry, 200*time.Millisecond)
	j := &Joiner{cfg: cfg}
	for i, p := range cfg.Contacts {
		if p.PeerURL != cfg.PeerURL {
			j.ask = append(j.ask, c.NodeID(i+1))
		}
	}
	return j
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Handle implements component.Component.
func (j *Joiner) Handle(now time.Duration, in c.Input) []c.Effect {
	if j.done {
		return nil
	}
	switch in := in.(type) {
	case c.Start:
		j.deadline = now + j.cfg.Timeout
		if len(j.ask) == 0 {
			return j.fail("no other member to ask in the cluster list")
		}
		return j.round()
	case c.TimerFired:
		switch {
		case in.ID == timerJoinRound:
			return j.round()
		case in.ID == timerJoinAsk && j.next < len(j.ask):
			j.err = fmt.Sprintf("ask %s: no answer within %v", j.addr(j.ask[j.next]), j.cfg.AskTimeout)
			return j.advance(now)
		}
	case Asked:
		return j.asked(now, in)
	}
	return nil
}

func (j *Joiner) round() []c.Effect {
	j.next = 0
	return j.send()
}

func (j *Joiner) send() []c.Effect {
	return []c.Effect{c.Send{To: j.ask[j.next], Msg: MembersQuery{}}, c.SetTimer{ID: timerJoinAsk, After: j.cfg.AskTimeout}}
}

// advance goes on to the next contact, or ends the round: gives up past the deadline, or
// pauses before the next.
func (j *Joiner) advance(now time.Duration) []c.Effect {
	if j.next++; j.next < len(j.ask) {
		return j.send()
	}
	if now > j.deadline {
		return j.fail(j.err)
	}
	return []c.Effect{c.CancelTimer{ID: timerJoinAsk}, c.SetTimer{ID: timerJoinRound, After: j.cfg.Retry}}
}

func (j *Joiner) fail(why string) []c.Effect {
	j.done = true
	return []c.Effect{c.CancelTimer{ID: timerJoinAsk}, c.CancelTimer{ID: timerJoinRound}, c.Halt{Reason: "join: " + why}}
}

// asked takes an ask's outcome. An answer that lists the joiner ends the join, whenever
// it comes; any other outcome ends the ask only if it is the contact being asked (a late
// one says nothing new).
func (j *Joiner) asked(now time.Duration, a Asked) []c.Effect {
	if a.From < 1 || int(a.From) > len(j.cfg.Contacts) {
		return nil
	}
	addr, want := j.addr(a.From), j.cfg.PeerURL
	var why string
	if a.Err != "" {
		why = fmt.Sprintf("ask %s: %s", addr, a.Err)
	} else if ans, ok := decodeMembersAnswer(a.Answer); !ok {
		why = fmt.Sprintf("ask %s: bad answer", addr)
	} else if id, ok := j.find(ans); ok {
		j.done = true
		return []c.Effect{c.CancelTimer{ID: timerJoinAsk}, c.CancelTimer{ID: timerJoinRound}, Joined{Identity: id}}
	} else {
		why = fmt.Sprintf("the cluster (asked %s) has no member with peer URL %s: add it first (etcdctl member add %s --peer-urls=%s)", addr, want, j.cfg.Name, want)
	}
	if j.next >= len(j.ask) || j.ask[j.next] != a.From {
		return nil
	}
	j.err = why
	return j.advance(now)
}

func decodeMembersAnswer(b []byte) (MembersAnswer, bool) {
	m, err := DecodeMessage(b)
	ans, ok := m.(MembersAnswer)
	return ans, err == nil && ok
}

// find returns the identity an answer gives the joiner: the ID of the member with its
// peer URL, and the answer's cluster ID and table.
func (j *Joiner) find(ans MembersAnswer) (Identity, bool) {
	for _, x := range ans.Members {
		if x.ID == 0 {
			continue // no member's ID
		}
		for _, u := range x.PeerURLs {
			if u == j.cfg.PeerURL {
				return Identity{ID: x.ID, ClusterID: ans.ClusterID, Contacts: cloneMembers(ans.Members)}, true
			}
		}
	}
	return Identity{}, false
}

func (j *Joiner) addr(id c.NodeID) string { return j.cfg.Contacts[int(id)-1].Addr }
