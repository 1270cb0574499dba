package raft

import (
	"fmt"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ok := Config{ID: 1, Storage: NewMemoryStorage(), Rand: rng, Peers: []uint64{1, 2, 3}}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"zero id", func(c *Config) { c.ID = 0 }, "ID must not be 0"},
		{"no storage", func(c *Config) { c.Storage = nil }, "Storage is required"},
		{"no rand", func(c *Config) { c.Rand = nil }, "Rand is required"},
		{"election <= heartbeat", func(c *Config) { c.ElectionTick, c.HeartbeatTick = 2, 2 }, "must exceed HeartbeatTick"},
		{"duplicate peer", func(c *Config) { c.Learners = []uint64{3} }, "listed twice"},
		{"peer 0", func(c *Config) { c.Peers = []uint64{0} }, "node id 0"},
		{"applied beyond commit", func(c *Config) { c.Applied = 5 }, "Applied 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Storage = NewMemoryStorage()
			tc.edit(&c)
			_, err := NewNode(c)
			require.ErrorIs(t, err, ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	n, err := NewNode(ok)
	require.NoError(t, err)
	assert.Equal(t, 10, n.electionTimeout)
	assert.Equal(t, 1, n.heartbeatTimeout)
}

func TestPeersWithSnapshotRejected(t *testing.T) {
	ms := NewMemoryStorage()
	require.NoError(t, ms.ApplySnapshot(Snapshot{Metadata: SnapshotMetadata{Index: 5, Term: 1, ConfState: ConfState{Voters: []uint64{1}}}}))
	_, err := NewNode(Config{ID: 1, Storage: ms, Rand: rand.New(rand.NewPCG(1, 1)), Peers: []uint64{1}})
	assert.ErrorIs(t, err, ErrConfig)
}

// TestElectionTimeoutRange: timeouts are drawn from [ElectionTick, 2*ElectionTick) and are
// reproducible from the seed.
func TestElectionTimeoutRange(t *testing.T) {
	draw := func(seed uint64) []int {
		n, err := NewNode(Config{ID: 1, Storage: NewMemoryStorage(), Rand: rand.New(rand.NewPCG(seed, 0)), Peers: []uint64{1, 2, 3}})
		require.NoError(t, err)
		var out []int
		for range 200 {
			n.reset(n.term)
			out = append(out, n.randomizedTimout)
		}
		return out
	}
	got := draw(42)
	assert.Equal(t, got, draw(42))
	assert.Equal(t, 10, slices.Min(got))
	assert.Equal(t, 19, slices.Max(got))
}

// TestSimDeterminism: one seed, one outcome.
func TestSimDeterminism(t *testing.T) {
	trace := func() string {
		opts := drawOpts(rand.New(rand.NewPCG(7, 1)), 1500)
		s := newSim(7, opts)
		var b strings.Builder
		s.trace = func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
		require.NoError(t, s.run())
		return b.String() + s.describe()
	}
	assert.Equal(t, trace(), trace())
}

// TestDeterministicImports: the non-test files import nothing that reaches the OS, the
// clock, goroutine machinery or global randomness (STYLE.md item 16).
func TestDeterministicImports(t *testing.T) {
	allowed := []string{"bytes", "encoding/binary", "errors", "fmt", "math/rand/v2", "slices", "strconv", "strings",
		"github.com/orrery/orrery/node/bugs"}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.Contains(t, allowed, path, "%s imports %s", name, path)
		}
	}
}
