package rsm

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
)

// joinConfig is a cluster list of three running members and the joiner (n4, last).
func joinConfig() JoinConfig {
	return JoinConfig{Name: "n4", PeerURL: "http://10.0.0.4:2380", Contacts: []Contact{
		{Addr: "10.0.0.1:2380", PeerURL: "http://10.0.0.1:2380"},
		{Addr: "10.0.0.2:2380", PeerURL: "http://10.0.0.2:2380"},
		{Addr: "10.0.0.4:2380", PeerURL: "http://10.0.0.4:2380"},
	}}
}

// answer is a running member's answer to the joiner's question, built by the code a
// member answers with.
func answer(t *testing.T, table []Member) []byte {
	q, err := EncodeMessage(MembersQuery{})
	require.NoError(t, err)
	b := AnswerMembersQuery(q, 42, table)
	require.NotNil(t, b)
	return b
}

func withJoiner(ms []Member) []Member {
	return append(ms, Member{ID: 0x5eed, PeerURLs: []string{"http://10.0.0.4:2380"}, Learner: true})
}

// effects prints a batch of effects, one a line, as the simulator's trace does.
func effects(effs []c.Effect) string {
	var lines []string
	for _, e := range effs {
		lines = append(lines, e.String())
	}
	return strings.Join(lines, "\n")
}

func TestJoinerRetriesAndFindsItself(t *testing.T) {
	j := NewJoiner(joinConfig())
	s := time.Second
	steps := []struct {
		now  time.Duration
		in   c.Input
		want string
	}{
		{0, c.Start{}, "send to=n1 members-query\nset-timer 1 1s"},
		// n1 does not answer in time: n2 is asked; n3 is the joiner itself, never asked.
		{s, c.TimerFired{ID: timerJoinAsk}, "send to=n2 members-query\nset-timer 1 1s"},
		// n2 does not know the joiner yet: the round is over, the next after a pause.
		{s + 10, Asked{From: 2, Answer: answer(t, members3())}, "cancel-timer 1\nset-timer 2 200ms"},
		{s + 200*time.Millisecond, c.TimerFired{ID: timerJoinRound}, "send to=n1 members-query\nset-timer 1 1s"},
		// n1 has the joiner in its table now.
		{2 * s, Asked{From: 1, Answer: answer(t, withJoiner(members3()))},
			"cancel-timer 1\ncancel-timer 2\njoined identity 24301 cluster=42 initial=[] contacts=[" +
				formatMembers(withJoiner(members3())) + "]"},
		{3 * s, c.TimerFired{ID: timerJoinAsk}, ""},
	}
	for i, st := range steps {
		assert.Equal(t, st.want, effects(j.Handle(st.now, st.in)), "step %d: %s", i, st.in)
	}
}

func TestJoinerGivesUpWithTheHint(t *testing.T) {
	cfg := joinConfig()
	cfg.Timeout = 3 * time.Second
	j := NewJoiner(cfg)
	var last []c.Effect
	now := time.Duration(0)
	last = j.Handle(now, c.Start{})
	for round := 0; round < 10 && !strings.Contains(effects(last), "halt"); round++ {
		now += time.Second
		last = j.Handle(now, Asked{From: 1, Err: "connection refused"})
		require.Equal(t, "send to=n2 members-query\nset-timer 1 1s", effects(last))
		now += time.Second
		last = j.Handle(now, Asked{From: 2, Answer: answer(t, members3())})
		if !strings.Contains(effects(last), "halt") {
			now += 200 * time.Millisecond
			last = j.Handle(now, c.TimerFired{ID: timerJoinRound})
		}
	}
	require.Equal(t, c.Halt{Reason: "join: the cluster (asked 10.0.0.2:2380) has no member with peer URL http://10.0.0.4:2380: " +
		"add it first (etcdctl member add n4 --peer-urls=http://10.0.0.4:2380)"}, last[len(last)-1])
	assert.Greater(t, now, cfg.Timeout, "not before the timeout")
	assert.Empty(t, j.Handle(now, Asked{From: 1, Answer: answer(t, withJoiner(members3()))}), "done")

	// The last ask's outcome is the reason, whatever it was.
	cfg.Contacts = cfg.Contacts[:1]
	j = NewJoiner(cfg)
	j.Handle(0, c.Start{})
	last = j.Handle(4*time.Second, Asked{From: 1, Err: "dial tcp 10.0.0.1:2380: connection refused"})
	assert.Equal(t, "halt: join: ask 10.0.0.1:2380: dial tcp 10.0.0.1:2380: connection refused", last[len(last)-1].String())
	j = NewJoiner(cfg)
	j.Handle(0, c.Start{})
	last = j.Handle(4*time.Second, c.TimerFired{ID: timerJoinAsk})
	assert.Equal(t, "halt: join: ask 10.0.0.1:2380: no answer within 1s", last[len(last)-1].String())
}

func TestJoinerWithNobodyToAsk(t *testing.T) {
	cfg := joinConfig()
	cfg.Contacts = cfg.Contacts[2:] // itself only
	assert.Equal(t, "cancel-timer 1\ncancel-timer 2\nhalt: join: no other member to ask in the cluster list",
		effects(NewJoiner(cfg).Handle(0, c.Start{})))
}

func TestJoinerIgnoresMalformedAnswers(t *testing.T) {
	removed, err := EncodeMessage(RemovedNotice{})
	require.NoError(t, err)
	good := answer(t, withJoiner(members3()))
	for name, b := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("members"),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte{}, good...), 0),
		"kind":      removed,
	} {
		j := NewJoiner(joinConfig())
		j.Handle(0, c.Start{})
		assert.Equal(t, "send to=n2 members-query\nset-timer 1 1s", effects(j.Handle(1, Asked{From: 1, Answer: b})), name)
		assert.Equal(t, "ask 10.0.0.1:2380: bad answer", j.err, name)
	}
	// A table entry with ID 0 names no member: the joiner does not take it for itself.
	j := NewJoiner(joinConfig())
	j.Handle(0, c.Start{})
	j.Handle(1, Asked{From: 1, Answer: answer(t, []Member{{PeerURLs: []string{"http://10.0.0.4:2380"}}})})
	assert.True(t, strings.HasPrefix(j.err, "the cluster (asked 10.0.0.1:2380) has no member"), j.err)

	// Answers from nodes that are no contacts are dropped; so are late failures, while a
	// late answer that lists the joiner is taken.
	j = NewJoiner(joinConfig())
	j.Handle(0, c.Start{})
	assert.Empty(t, j.Handle(1, Asked{From: 9, Answer: good}))
	assert.Empty(t, j.Handle(1, Asked{From: 0, Answer: good}))
	j.Handle(2, c.TimerFired{ID: timerJoinAsk}) // n1 gave no answer in time; n2 is asked
	assert.Empty(t, j.Handle(3, Asked{From: 1, Err: "late"}))
	assert.Contains(t, effects(j.Handle(4, Asked{From: 1, Answer: good})), "joined identity 24301")
}

func TestAnswerMembersQuery(t *testing.T) {
	assert.Nil(t, AnswerMembersQuery([]byte("members"), 1, members3()), "the old question")
	assert.Nil(t, AnswerMembersQuery(nil, 1, members3()))
	b := answer(t, members3())
	m, err := DecodeMessage(b)
	require.NoError(t, err)
	assert.Equal(t, MembersAnswer{ClusterID: 42, Members: members3()}, m)
	for _, msg := range []c.Message{MembersQuery{}, MembersAnswer{}, MembersAnswer{ClusterID: 1 << 60, Members: withJoiner(members3())}} {
		b, err := EncodeMessage(msg)
		require.NoError(t, err)
		got, err := DecodeMessage(b)
		require.NoError(t, err)
		assert.Equal(t, msg.String(), got.String())
	}
}
