package front

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/driver"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/rsm"
)

// echo is a front for the tests: a call's answer is its payload; "hold" is answered only
// when abandoned, with the error its Of names (0: no leader, 1: gave up); a stream call
// pushes Of numbered pushes; every call and abandon is recorded.
type echo struct {
	mu   sync.Mutex
	seen []string
	held map[uint64]uint64
}

func (e *echo) Handle(_ time.Duration, in c.Input) []c.Effect {
	r, ok := in.(c.Receive)
	if !ok {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, r.Msg.String())
	answer := func(a rsm.Answer) c.Effect { return c.Send{To: driver.Local, Msg: a} }
	switch m := r.Msg.(type) {
	case rsm.Call:
		if string(m.Req.Payload) == "hold" {
			e.held[m.ID] = m.Of
			return nil
		}
		effs := []c.Effect{answer(rsm.Answer{ID: m.ID, Result: m.Req.Payload})}
		if m.Req.Stream {
			for i := range m.Of {
				effs = append(effs, c.Send{To: driver.Local, Msg: rsm.Pushed{Stream: m.ID, Data: []byte(strconv.Itoa(int(i)))}})
			}
		}
		return effs
	case rsm.Abandon:
		if of, ok := e.held[m.ID]; ok {
			delete(e.held, m.ID)
			err := rsm.ErrNoLeader
			if of == 1 {
				err = rsm.ErrGaveUp
			}
			return []c.Effect{answer(rsm.Answer{ID: m.ID, Err: err})}
		}
	}
	return nil
}

func (e *echo) log() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

func start(t *testing.T) (*Caller, *echo, *driver.Driver) {
	e := &echo{held: map[uint64]uint64{}}
	var f *Caller
	d := driver.New(driver.Config{Component: e, Local: func(m c.Message) { f.Local(m) },
		Clock: func() time.Duration { return 0 }, Logger: slog.Default()})
	f = New(d, slog.Default())
	d.Start(c.Recovery{})
	t.Cleanup(func() { d.Stop(); f.Close() })
	return f, e, d
}

func TestCallsAreNumberedAndAnswered(t *testing.T) {
	f, e, _ := start(t)
	ctx := context.Background()
	for i := range 3 {
		b, err := f.Call(ctx, rsm.Request{Payload: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(i), string(b))
	}
	log := e.log()
	require.Len(t, log, 3)
	for i, s := range log {
		assert.Contains(t, s, fmt.Sprintf("call %d of=0", i+1))
	}
}

func TestAbandonedCalls(t *testing.T) {
	f, e, d := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.Call(ctx, rsm.Request{Payload: []byte("hold")})
	require.ErrorIs(t, err, ErrNoLeader, "never left: definite")
	assert.Equal(t, "abandon 1", e.log()[1])

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err = f.call(ctx, rsm.Request{Payload: []byte("hold")}, 1, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the outcome is unknown")

	d.Stop()
	_, err = f.Call(context.Background(), rsm.Request{Payload: []byte("x")})
	require.ErrorIs(t, err, ErrStopped)
}

func TestStreams(t *testing.T) {
	f, e, _ := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, b, err := f.Open(ctx, rsm.Request{Payload: []byte("watch")})
	require.NoError(t, err)
	assert.Equal(t, "watch", string(b))
	ch := Relay(ctx, s, func(b []byte) (int, error) { return strconv.Atoi(string(b)) })
	got, ok := f.StreamOf(ch)
	require.True(t, ok)
	assert.Same(t, s, got)
	require.NoError(t, s.Ask(ctx, rsm.Request{Payload: []byte("progress")}))
	assert.Contains(t, e.log()[1], "call 2 of=1")

	// A reader that does not keep up loses its stream: more pushes than the buffer holds.
	_, _, err = f.call(ctx, rsm.Request{Stream: true, Payload: []byte("flood")}, streamBuffer+1, make(chan []byte, streamBuffer))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		log := e.log()
		return log[len(log)-1] == "abandon 3"
	}, 5*time.Second, time.Millisecond)

	// A push that does not decode ends the relay, and with it the stream.
	bad, _, err := f.Open(ctx, rsm.Request{Payload: []byte("w2")})
	require.NoError(t, err)
	out := Relay(ctx, bad, func([]byte) (int, error) { return 0, errors.New("bad") })
	f.Local(rsm.Pushed{Stream: 4, Data: []byte("x")})
	for range out {
	}
	require.Eventually(t, func() bool {
		log := e.log()
		return log[len(log)-1] == "abandon 4"
	}, 5*time.Second, time.Millisecond)
	_, ok = f.StreamOf(out)
	assert.False(t, ok)

	cancel() // ends the first relay: its channel closes, the stream is abandoned
	for range ch {
	}
	require.Eventually(t, func() bool {
		log := e.log()
		return log[len(log)-1] == "abandon 1"
	}, 5*time.Second, time.Millisecond)
}
