package harness

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/sim"
)

// doubleSync writes a record and asks for two fsyncs, the second with nothing to flush.
type doubleSync struct{}

func (doubleSync) Handle(_ time.Duration, in component.Input) []component.Effect {
	if _, ok := in.(component.Start); ok {
		return []component.Effect{component.Append{File: "log", Record: []byte("a")}, component.Sync{ID: 1}, component.Sync{ID: 2}}
	}
	return nil
}

// idleClient completes nothing: the run is about the server's disk.
type idleClient struct{}

func (idleClient) Handle(time.Duration, component.Input) []component.Effect { return nil }

type noOps struct{}

func (noOps) Next(*rand.Rand, int) sim.Op  { return sim.Op{F: "noop", Value: component.Null()} }
func (noOps) Final(*rand.Rand, int) sim.Op { return sim.Op{F: "noop", Value: component.Null()} }

// A system that promises strict syncs fails a run with an fsync that flushes nothing.
func TestStrictSyncs(t *testing.T) {
	sys := sim.System{
		Name: "doublesync", Servers: 1, Clients: 1,
		Server:   func(component.NodeID, *rand.Rand) component.Component { return doubleSync{} },
		Client:   func(component.NodeID, *rand.Rand) component.Component { return idleClient{} },
		Workload: func() sim.Generator { return noOps{} },
	}
	opts := sim.Options{Seed: 1, Ops: 1, OpTimeout: time.Millisecond, Liveness: time.Millisecond}
	out, err := RunSeed(sys, opts, Checker{})
	require.NoError(t, err)
	assert.NotContains(t, out.Problem, "fsyncs")
	sys.StrictSyncs = true
	out, err = RunSeed(sys, opts, Checker{})
	require.NoError(t, err)
	assert.Equal(t, Safety, out.Kind)
	assert.Contains(t, out.Problem, "1 fsyncs asked for with nothing written since the same process's previous one (the first by n1 at 0s)")
}
