package workload

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim"
)

func TestRegisterWritesUniqueValues(t *testing.T) {
	g := &RegisterOps{Keys: 2}
	r := sim.NewRand(1)
	seen := map[string]bool{}
	for range 500 {
		op := g.Next(r, 0)
		require.Contains(t, []string{"k0", "k1"}, op.Key)
		if op.F == "put" {
			v, ok := op.Value.Str()
			require.True(t, ok)
			require.False(t, seen[v], "value %s written twice", v)
			seen[v] = true
		}
	}
	assert.Greater(t, len(seen), 100)
}

func TestBuildSystemRejectsBadConfig(t *testing.T) {
	w, err := Lookup("register")
	require.NoError(t, err)
	_, err = w.BuildSystem(Config{Bugs: bugs.With("raft.vote-twice")})
	assert.ErrorContains(t, err, `unknown bug "raft.vote-twice"`)
	_, err = w.BuildSystem(Config{Nodes: 2})
	assert.ErrorContains(t, err, "at least 3 nodes")
	_, err = w.BuildSystem(Config{Keys: -1})
	assert.ErrorContains(t, err, "must not be negative")
	_, err = Lookup("nope")
	assert.ErrorContains(t, err, `unknown workload "nope" (known: all, append, kv, lock, members, mvcc, raftlog, raftreg, register, watch)`)
}
