package harness

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim"
	"github.com/orrery/orrery/sim/workload"
)

// A seeded run's recorded script replays its history exactly, for every workload.
func TestExtractedScenarioReplaysTheSeed(t *testing.T) {
	faultPoints := 0 // fired fault points replayed as steps
	defer func() { assert.Positive(t, faultPoints, "no seed fired a fault point") }()
	for _, w := range workload.All() {
		t.Run(w.Name, func(t *testing.T) {
			sys, err := w.BuildSystem(workload.Config{})
			require.NoError(t, err)
			for seed := uint64(1); seed <= 3; seed++ {
				opts := sim.Options{Seed: seed, Faults: allFaults(t)}
				res, err := sim.Run(sys, opts)
				require.NoError(t, err)
				sc, err := Extract(w.Name, workload.Config{}, sys, opts, res)
				require.NoError(t, err)
				for _, st := range sc.Steps {
					if st.Kind == sim.StepFaultPoint {
						faultPoints++
					}
				}
				b, err := MarshalScenario(sc)
				require.NoError(t, err)
				path := filepath.Join(t.TempDir(), "s.json")
				require.NoError(t, os.WriteFile(path, b, 0o644))
				back, err := ReadScenario(path)
				require.NoError(t, err)
				again, err := back.Run(Checker{})
				require.NoError(t, err)
				assert.Equal(t, res.History, again.Result.History, "seed %d", seed)
			}
		})
	}
}

// Every scenario in testdata/regressions replays to the outcome class it expects, and
// minimal scenarios of planted bugs pass once the bug is switched off.
func TestRegressionScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/regressions/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := ReadScenario(f)
			require.NoError(t, err)
			out, err := sc.Run(Checker{Timeout: 10 * time.Second})
			require.NoError(t, err)
			assert.Equal(t, sc.Expect, Class(out), "%s: %s", sc.Comment, out.Problem)
			if len(sc.Bugs) > 0 && sc.Expect != "pass" {
				sc.Bugs = nil
				fixed, err := sc.Run(Checker{Timeout: 10 * time.Second})
				require.NoError(t, err)
				assert.Equal(t, Pass, fixed.Kind, "without the bug: %s", fixed.Problem)
			}
		})
	}
}

// Planted bugs' failing seeds shrink to scenarios of at most 12 operations and 3 faults
// that still fail the same way.
func TestShrinkPlantedBugs(t *testing.T) {
	for _, tc := range []struct {
		workload, bug string
		seed          uint64
		ops           int
		faults        string
	}{ // seeds: the first failing seed of 1-300 with 30 operations; for the raft bugs the
		// seeds and worlds of the README's shrink table (not every failing seed of theirs
		// gets this small)
		{"kv", "kv.stale-read", 12, 30, "all"},
		{"kv", "kv.txn-nonatomic", 1, 30, "all"},
		{"append", "kv.txn-stale-compare", 1, 30, "all"},
		{"all", "rsm.forward-twice", 153, 30, "all"},
		{"members", "rsm.snapshot-drops-members", 43, 30, "all"},
		{"watch", "kv.watch-skip", 1, 30, "all"},
		{"kv", "kv.watch-prevkv-self", 1, 30, "all"},
		{"lock", "kv.lease-early", 25, 30, "all"},
		{"raftreg", "raft.read-without-quorum", 568, 30, "all"},
		{"raftlog", "raft.ack-before-sync", 143, 12, "all"},
		{"raftlog", "raft.vote-twice", 744, 12, "crash,partition"},
		{"raftlog", "raft.commit-old-term", 716, 30, "partition"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			w, err := workload.Lookup(tc.workload)
			require.NoError(t, err)
			cfg := workload.Config{Bugs: bugs.With(tc.bug)}
			sys, err := w.BuildSystem(cfg)
			require.NoError(t, err)
			faults, err := sim.ParseFaults(tc.faults)
			require.NoError(t, err)
			opts := sim.Options{Seed: tc.seed, Ops: tc.ops, Faults: faults}
			out, err := RunSeed(sys, opts, Checker{})
			require.NoError(t, err)
			require.True(t, out.Failed(), "seed %d: %s", tc.seed, out.Kind)
			sc, err := Extract(tc.workload, cfg, sys, opts, out.Result)
			require.NoError(t, err)
			res, err := Shrink(sc, ShrinkConfig{Jobs: 1, MaxRuns: 3000, Reseeds: 8, Checker: Checker{Timeout: 5 * time.Second}})
			require.NoError(t, err)
			t.Logf("%d ops, %d faults, %d servers (from %d, %d) in %d runs", res.Scenario.Ops(), res.Scenario.Faults(), res.Scenario.Nodes, res.FromOps, res.FromFaults, res.Runs)
			assert.LessOrEqual(t, res.Scenario.Ops(), 12)
			assert.LessOrEqual(t, res.Scenario.Faults(), 3)
			again, err := res.Scenario.Run(Checker{})
			require.NoError(t, err)
			assert.Equal(t, res.Class, Class(again))
		})
	}
}

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		want string
	}{
		{Outcome{Kind: Pass}, "pass"},
		{Outcome{Kind: Safety, Problem: `not linearizable: key "k1": ...`}, "safety: not linearizable"},
		{Outcome{Kind: Safety, Problem: "invariant broken: index 29 applied as [3 a7] by n1 (incarnation 2, at 1s) but as [4 a9] by n2"}, "safety: index # applied as"},
		{Outcome{Kind: Safety, Problem: "invariant broken: watcher n5: event at revision 12 after 10: a gap"}, "safety: event at revision #"},
		{Outcome{Kind: Liveness, Problem: "liveness: final operation op=3 get of client n5 did not complete"}, "liveness: final operation op=#"},
	} {
		assert.Equal(t, tc.want, Class(tc.o), tc.o.Problem)
	}
}

// flaky is a test-only component that breaks the determinism contract: it reports a
// package-level counter that keeps counting from one run to the next.
type flaky struct{ inner sim.Component }

var flakyCounter atomic.Int64

func (f flaky) Handle(now time.Duration, in sim.Input) []sim.Effect {
	effs := f.inner.Handle(now, in)
	if _, ok := in.(sim.Start); ok {
		effs = append(effs, sim.Observe{Kind: "boot", Value: "counter=" + strconv.FormatInt(flakyCounter.Add(1), 10)})
	}
	return effs
}

// --check-determinism names the first event at which two runs differ.
func TestCheckDeterminismNamesTheFirstDivergentEvent(t *testing.T) {
	w, err := workload.Lookup("register")
	require.NoError(t, err)
	sys, err := w.BuildSystem(workload.Config{})
	require.NoError(t, err)
	opts := sim.Options{Seed: 3, Ops: 20, Faults: allFaults(t)}

	_, div, err := CheckDeterminism(sys, opts, Checker{})
	require.NoError(t, err)
	assert.Nil(t, div, "correct components are deterministic")

	server := sys.Server
	sys.Server = func(id sim.NodeID, r *rand.Rand) sim.Component { return flaky{server(id, r)} }
	_, div, err = CheckDeterminism(sys, opts, Checker{})
	require.NoError(t, err)
	require.NotNil(t, div)
	assert.Contains(t, div.First, "observe boot counter=")
	assert.Contains(t, div.Second, "observe boot counter=")
	assert.NotEqual(t, div.First, div.Second)
	assert.Equal(t, sim.NodeID(1), div.Node, "the first server to boot reports first")
	assert.Contains(t, div.String(), "runs diverge at event")
	t.Log(div)

	sum, err := Sweep(SweepConfig{System: sys, Options: opts, Seeds: seedRange(1, 4), Jobs: 2, DeterminismEvery: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Checked)
	assert.Equal(t, 2, sum.Diverged)
}

// A failing run's visualisation shows its crash, pause, partition and clock windows.
func TestVisualizationShowsFaultWindows(t *testing.T) {
	// The first seed of kv with kv.stale-read that fails and has crash, pause,
	// partition and clock windows (it fails on most seeds; the faults are all on).
	w, err := workload.Lookup("kv")
	require.NoError(t, err)
	sys, err := w.BuildSystem(workload.Config{Bugs: bugs.With("kv.stale-read")})
	require.NoError(t, err)
	fs, err := sim.ParseFaults("crash,pause,partition,clock")
	require.NoError(t, err)
	var out Outcome
	var opts sim.Options
	found := false
	for seed := uint64(1); seed <= 100 && !found; seed++ {
		opts = sim.Options{Seed: seed, Faults: fs}
		out, err = RunSeed(sys, opts, Checker{})
		require.NoError(t, err)
		kinds := map[sim.Fault]bool{}
		for _, fw := range out.Result.Faults {
			kinds[fw.Kind] = true
		}
		found = out.Failed() && kinds[sim.FaultCrash] && kinds[sim.FaultPause] && kinds[sim.FaultPartition] && kinds[sim.FaultClock]
	}
	require.True(t, found, "no failing seed in 1-100 with all four kinds of fault window")
	dir := t.TempDir()
	require.NoError(t, WriteEvidence(dir, sys, opts, out, "orrery sim run --seed X"))
	html, err := os.ReadFile(filepath.Join(dir, "visualization.html"))
	require.NoError(t, err)
	kinds := map[sim.Fault]bool{}
	for _, w := range out.Result.Faults {
		kinds[w.Kind] = true
		detail, err := json.Marshal(w.Detail) // the page embeds the annotations as JSON
		require.NoError(t, err)
		assert.Contains(t, string(html), string(detail), "window %s %s", w.Kind, w.Detail)
	}
	for _, k := range []sim.Fault{sim.FaultCrash, sim.FaultPause, sim.FaultPartition, sim.FaultClock} {
		assert.True(t, kinds[k], "no %s window", k)
		assert.Contains(t, string(html), `"`+string(k)+`"`)
	}
	assert.Contains(t, string(html), `"faults"`)
}
