package abd_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/node/register"
	"github.com/orrery/orrery/sim"
	"github.com/orrery/orrery/sim/simtest"
)

// system wires three ABD replicas and three clients into a simulated world.
func system(b bugs.Set) sim.System {
	replicas := []sim.NodeID{1, 2, 3}
	return sim.System{
		Name:    "abd-example",
		Servers: 3,
		Clients: 3,
		Server: func(id sim.NodeID, r *rand.Rand) sim.Component {
			return register.NewReplica(id, replicas, r)
		},
		Client: func(id sim.NodeID, _ *rand.Rand) sim.Component {
			return register.NewClient(id, replicas, b)
		},
		Workload: func() sim.Generator { return &ops{} },
		Model:    "register",
	}
}

// ops reads and writes two keys; every write is a fresh value.
type ops struct{ n int }

func (o *ops) Next(r *rand.Rand, _ int) sim.Op {
	key := fmt.Sprintf("x%d", r.IntN(2))
	if r.IntN(2) == 0 {
		return sim.Op{F: "get", Key: key, Value: sim.Null()}
	}
	o.n++
	return sim.Op{F: "put", Key: key, Value: sim.Str(fmt.Sprint(o.n))}
}

func (o *ops) Final(_ *rand.Rand, client int) sim.Op {
	return sim.Op{F: "get", Key: fmt.Sprintf("x%d", client%2), Value: sim.Null()}
}

func TestABDIsLinearizable(t *testing.T) {
	sum := simtest.Sweep(t, system(bugs.Set{}), simtest.Config{Seeds: 60})
	assert.Equal(t, 60, sum.Seeds)
}

// recorder captures what simtest reports instead of failing the real test, so that this
// test can show what a user sees when their component is broken.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.TB.Fatalf(format, args...)
}

func TestABDWithoutWriteBackFailsWithReplay(t *testing.T) {
	rec := &recorder{TB: t}
	sum := simtest.Sweep(rec, system(bugs.With(register.SkipWriteback)), simtest.Config{Seeds: 200})
	require.NotEmpty(t, sum.Failures, "the planted bug went unnoticed for 200 seeds")
	require.Len(t, rec.errors, 1)
	msg := rec.errors[0]
	seed := sum.Failures[0].Result.Seed
	for _, f := range sum.Failures {
		seed = min(seed, f.Result.Seed) // the one reported
	}
	assert.Contains(t, msg, fmt.Sprintf("seed %d failed (safety): not linearizable", seed))
	assert.Contains(t, msg, fmt.Sprintf("replay: go test -run '^TestABDWithoutWriteBackFailsWithReplay$' -orrery.seed=%d", seed))
	assert.True(t, strings.Contains(msg, "evidence: /"), msg)
}
