package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

// ping is a toy message.
type ping struct{ op uint64 }

func (p ping) String() string { return fmt.Sprintf("ping %d", p.op) }

// echoServer answers every ping; with haltFirst it halts on its first boot.
type echoServer struct {
	haltFirst bool
	booted    *int
}

func (s *echoServer) Handle(_ time.Duration, in Input) []Effect {
	switch in := in.(type) {
	case Start:
		*s.booted++
		if s.haltFirst && *s.booted == 1 {
			return []Effect{Halt{Reason: "first boot"}}
		}
	case Receive:
		return []Effect{Send{To: in.From, Msg: in.Msg}, Observe{Kind: "echo", Value: in.Msg.String()}}
	}
	return nil
}

// echoClient pings server 1 and completes on the echo; mute never completes.
type echoClient struct {
	mute bool
	op   uint64
}

func (c *echoClient) Handle(_ time.Duration, in Input) []Effect {
	switch in := in.(type) {
	case Invoke:
		c.op = in.Op.ID
		return []Effect{Send{To: 1, Msg: ping{in.Op.ID}}, SetTimer{ID: 1, After: 50 * time.Millisecond}}
	case TimerFired: // resend until answered
		return []Effect{Send{To: 1, Msg: ping{c.op}}, SetTimer{ID: 1, After: 50 * time.Millisecond}}
	case Receive:
		if p := in.Msg.(ping); p.op == c.op && !c.mute {
			return []Effect{CancelTimer{ID: 1}, Complete{OpID: p.op, Outcome: OK, Value: Null()}}
		}
	}
	return nil
}

type getOps struct{}

func (getOps) Next(*rand.Rand, int) Op  { return Op{F: "get", Key: "k", Value: Null()} }
func (getOps) Final(*rand.Rand, int) Op { return Op{F: "get", Key: "k", Value: Null()} }

func echoSystem(haltFirst, mute bool, booted *int) System {
	return System{
		Name: "echo", Servers: 3, Clients: 2,
		Server:   func(NodeID, *rand.Rand) Component { return &echoServer{haltFirst: haltFirst, booted: booted} },
		Client:   func(NodeID, *rand.Rand) Component { return &echoClient{mute: mute} },
		Workload: func() Generator { return getOps{} },
	}
}

func TestRunIsAPureFunctionOfTheSeed(t *testing.T) {
	var booted int
	sys := echoSystem(false, false, &booted)
	all, _ := ParseFaults("all")
	a, err := Run(sys, Options{Seed: 7, Ops: 50, Faults: all})
	require.NoError(t, err)
	b, err := Run(sys, Options{Seed: 7, Ops: 50, Faults: all})
	require.NoError(t, err)
	c, err := Run(sys, Options{Seed: 8, Ops: 50, Faults: all})
	require.NoError(t, err)
	assert.Equal(t, a.TraceHash, b.TraceHash)
	assert.Equal(t, a.History, b.History)
	assert.NotEqual(t, a.TraceHash, c.TraceHash)
}

func TestEveryOperationIsRecorded(t *testing.T) {
	var booted int
	res, err := Run(echoSystem(false, false, &booted), Options{Seed: 1, Ops: 20})
	require.NoError(t, err)
	require.NoError(t, res.Liveness)
	ops, err := history.Pair(res.History)
	require.NoError(t, err)
	assert.Len(t, ops, 20+2, "20 fault-phase operations and one final operation per client")
	for _, op := range ops {
		assert.Equal(t, history.OK, op.Outcome)
	}
	require.NotEmpty(t, res.Observations)
	for _, o := range res.Observations {
		assert.Equal(t, "echo", o.Kind)
		assert.Equal(t, NodeID(1), o.Node, "only server 1 is pinged")
		assert.Regexp(t, `^ping \d+$`, o.Value)
	}
}

func TestStuckClusterIsALivenessFailure(t *testing.T) {
	var booted int
	res, err := Run(echoSystem(false, true, &booted), Options{Seed: 1, Ops: 4, OpTimeout: 100 * time.Millisecond, Liveness: time.Second})
	require.NoError(t, err)
	require.Error(t, res.Liveness)
	assert.True(t, errors.Is(res.Liveness, ErrLiveness))
	assert.Contains(t, res.Liveness.Error(), "did not complete within 1s after the faults stopped")
	ops, err := history.Pair(res.History)
	require.NoError(t, err)
	for _, op := range ops {
		assert.Equal(t, history.Info, op.Outcome, "a timed-out operation is indefinite")
	}
}

func TestHaltedNodeIsRestarted(t *testing.T) {
	var booted int
	var lines []string
	res, err := Run(echoSystem(true, false, &booted), Options{Seed: 1, Ops: 5, Trace: func(l string) { lines = append(lines, l) }})
	require.NoError(t, err)
	require.NoError(t, res.Liveness)
	assert.Equal(t, 4, booted, "three servers booted, one of them twice")
	assert.Contains(t, strings.Join(lines, "\n"), "crash (halt: first boot)")
}

func TestUnknownEffectNeedsOutside(t *testing.T) {
	var booted int
	sys := echoSystem(false, false, &booted)
	sys.Server = func(NodeID, *rand.Rand) Component { return effectOnStart{} }
	assert.PanicsWithValue(t, "sim: node n1 returned effect sim.startPod and the system has no Outside to execute it", func() {
		_, _ = Run(sys, Options{Seed: 1, Ops: 1})
	})
	out := &fakeOutside{}
	sys.Outside = func() Outside { return out }
	res, err := Run(sys, Options{Seed: 1, Ops: 1})
	require.NoError(t, err)
	require.NoError(t, res.Liveness)
	assert.Equal(t, 3, out.applied)
}

type startPod struct{}

func (startPod) String() string { return "start-pod" }

type effectOnStart struct{}

func (effectOnStart) Handle(_ time.Duration, in Input) []Effect {
	switch in := in.(type) {
	case Start:
		return []Effect{startPod{}}
	case Receive:
		return []Effect{Send{To: in.From, Msg: in.Msg}}
	}
	return nil
}

type fakeOutside struct{ applied int }

func (f *fakeOutside) Apply(_ NodeID, _ time.Duration, e Effect, _ *rand.Rand) ([]Later, error) {
	f.applied++
	return []Later{{After: time.Millisecond, In: TimerFired{ID: 99}}}, nil
}
func (f *fakeOutside) Crashed(NodeID, time.Duration) {}

// Regression (found by a 3000-seed sweep): an input held during a pause was delivered after
// resume even though the node crashed in between.
func TestHeldInputsDieWithTheProcess(t *testing.T) {
	var booted int
	w := newWorld(echoSystem(false, false, &booted), Options{Seed: 1, Ops: 5}.withDefaults())
	w.start()
	n := w.nodes[1]
	w.pause(n)
	delivered := false
	w.dispatch(n, n.incarnation, func() { delivered = true })
	w.resume(n)
	w.crash(n, "test")
	w.loop()
	assert.False(t, delivered, "a held input outlived its process")
	assert.NoError(t, w.liveErr)
}

// syncTwice writes one record and asks for two fsyncs: the second has nothing to flush.
type syncTwice struct{}

func (syncTwice) Handle(_ time.Duration, in Input) []Effect {
	switch in := in.(type) {
	case Start:
		return []Effect{Append{File: "log", Record: []byte("a")}, Sync{ID: 1}, Sync{ID: 2}}
	case Receive:
		return []Effect{Send{To: in.From, Msg: in.Msg}}
	}
	return nil
}

// The world counts fsyncs that cover no write issued since the process's previous one; a
// restarted process's first one does not count.
func TestEmptySyncsAreCounted(t *testing.T) {
	var booted int
	sys := echoSystem(false, false, &booted)
	res, err := Run(sys, Options{Seed: 1, Ops: 1})
	require.NoError(t, err)
	assert.Zero(t, res.EmptySyncs)

	sys.Server = func(NodeID, *rand.Rand) Component { return syncTwice{} }
	res, err = Run(sys, Options{Seed: 1, Ops: 1})
	require.NoError(t, err)
	assert.Equal(t, sys.Servers, res.EmptySyncs, "one per server")
	assert.Equal(t, "n1 at 0s", res.FirstEmpty)
}
