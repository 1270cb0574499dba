package pod

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLifecycleHappyPath(t *testing.T) {
	s := Embryo
	for _, ev := range []Event{EvPrepare, EvPrepared, EvStart, EvExit, EvCollect} {
		var err error
		s, err = Next(s, ev)
		require.NoError(t, err, "event %s", ev)
	}
	assert.Equal(t, Garbage, s)
}

func TestLifecycleRefusesIllegalMoves(t *testing.T) {
	cases := []struct {
		from State
		ev   Event
	}{
		{Embryo, EvStart}, {Preparing, EvStart}, {Prepared, EvPrepare}, {Running, EvCollect},
		{Exited, EvStart}, {Garbage, EvCollect}, {Aborted, EvStart}, {Running, EvPrepared},
	}
	for _, c := range cases {
		got, err := Next(c.from, c.ev)
		assert.ErrorIs(t, err, ErrTransition, "%s in %s", c.ev, c.from)
		assert.Equal(t, c.from, got)
	}
}

func TestStateValid(t *testing.T) {
	for _, s := range []State{Embryo, Preparing, Aborted, Prepared, Running, Exited, Garbage} {
		assert.True(t, s.Valid(), s)
	}
	assert.False(t, State("zombie").Valid())
}

func TestNthAddr(t *testing.T) {
	p := netip.MustParsePrefix("10.88.0.0/24")
	a, ok := NthAddr(p, 1)
	assert.True(t, ok)
	assert.Equal(t, "10.88.0.1", a.String())
	a, ok = NthAddr(p, 254)
	assert.True(t, ok)
	assert.Equal(t, "10.88.0.254", a.String())
	_, ok = NthAddr(p, 255)
	assert.False(t, ok)
}

func TestNetMode(t *testing.T) {
	m, err := ParseNetMode("")
	require.NoError(t, err)
	assert.Equal(t, NetDefault, m)
	_, err = ParseNetMode("bridge")
	assert.ErrorContains(t, err, `--net "bridge"`)
}
