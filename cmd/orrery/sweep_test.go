package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/sim/harness"
)

func readReport(t *testing.T, path string) harness.Report {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rep, err := harness.ReadReport(f)
	require.NoError(t, err)
	return rep
}

// A sweep split into shards covers every seed once, and merging the shards' JSON
// summaries gives the single sweep's summary: the same seeds, failures, trace hashes and
// coverage counts. The world has a planted bug so that failures merge too.
func TestShardedSweepMergesToTheWholeSweep(t *testing.T) {
	dir := t.TempDir()
	world := []string{"--workload", "register", "--faults", "drop,partition", "--bug", "register.skip-writeback", "--ops", "40",
		"--seeds", "1-100", "--jobs", "2", "--evidence", "0", "--check-determinism-every", "20"}
	whole := filepath.Join(dir, "whole.json")
	code, out, errOut := orrery(t, append([]string{"sim", "sweep", "--json", whole}, world...)...)
	require.Equal(t, exitViolation, code, out+errOut)

	var shards []string
	for k := 1; k <= 4; k++ {
		path := filepath.Join(dir, "shard"+string(rune('0'+k))+".json")
		_, out, errOut := orrery(t, append([]string{"sim", "sweep", "--shard", string(rune('0'+k)) + "/4", "--json", path}, world...)...)
		require.Contains(t, out, "seeds run: 25 ", out+errOut)
		rep := readReport(t, path)
		assert.Equal(t, 25, rep.Runs)
		shards = append(shards, path)
	}
	assert.Equal(t, "2,6,10,14,18,22,26,30,34,38,42,46,50,54,58,62,66,70,74,78,82,86,90,94,98", readReport(t, shards[1]).Seeds)

	mergedPath := filepath.Join(dir, "merged.json")
	code, out, errOut = orrery(t, append([]string{"sim", "merge", "--json", mergedPath}, shards...)...)
	require.Equal(t, exitViolation, code, out+errOut)
	assert.Contains(t, out, "replay: ")
	assert.Contains(t, out, "sim run --seed ")

	want, got := readReport(t, whole), readReport(t, mergedPath)
	require.NotEmpty(t, want.Failures, "the planted bug should fail some of 100 seeds")
	want.Wall, got.Wall = 0, 0
	want.Shard = ""
	assert.Equal(t, want, got)

	// A missing shard is reported and makes the verdict inconclusive when nothing failed.
	clean := []string{"--workload", "register", "--ops", "20", "--seeds", "1-6", "--jobs", "1", "--check-determinism-every", "0"}
	for k := 1; k <= 2; k++ {
		path := filepath.Join(dir, "clean"+string(rune('0'+k))+".json")
		code, out, _ := orrery(t, append([]string{"sim", "sweep", "--shard", string(rune('0'+k)) + "/3", "--json", path}, clean...)...)
		require.Equal(t, exitOK, code, out)
	}
	code, out, _ = orrery(t, "sim", "merge", filepath.Join(dir, "clean1.json"), filepath.Join(dir, "clean2.json"))
	assert.Equal(t, exitInconclusive, code, out)
	assert.Contains(t, out, "INCOMPLETE: no report for shard 3/3")
}

func TestMergeRefusesBadReports(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r harness.Report) string {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return path
	}
	a := harness.Report{Version: harness.ReportVersion, Setup: []string{"--workload", "all"}, Planned: "1-4", Shard: "1/2", Seeds: "1,3", Runs: 2}
	b := a
	b.Shard, b.Seeds = "2/2", "2,3"
	c := a
	c.Setup = []string{"--workload", "kv"}
	d := a
	d.Runs = 5
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version": 1, "surprise": true}`), 0o644))
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{write("a.json", a), write("b.json", b)}, "seed 3 is in report 1 and report 2"},
		{[]string{write("a.json", a), write("c.json", c)}, "report 2 was run with"},
		{[]string{write("d.json", d)}, "lists 2 seeds but counts 5 runs"},
		{[]string{bad}, `unknown field "surprise"`},
		{nil, "want the JSON summaries"},
	} {
		code, out, errOut := orrery(t, append([]string{"sim", "merge"}, tc.files...)...)
		assert.Equal(t, exitUsage, code, out+errOut)
		assert.Contains(t, errOut, tc.want, strings.Join(tc.files, " "))
	}
}

func TestShardFlagAndJobIndex(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  [][2]string
		want string
	}{
		{[]string{"--shard", "5/4"}, nil, "--shard: bad shard \"5/4\""},
		{[]string{"--shard", "x"}, nil, "want K/N"},
		{nil, [][2]string{{"JOB_COMPLETION_INDEX", "1"}}, "must be set together"},
		{nil, [][2]string{{"JOB_COMPLETION_INDEX", "4"}, {"JOB_COMPLETION_COUNT", "4"}}, "bad shard \"5/4\""},
	} {
		for _, e := range tc.env {
			t.Setenv(e[0], e[1])
		}
		code, out, errOut := orrery(t, append([]string{"sim", "sweep", "--seeds", "1-8", "--workload", "register"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, out+errOut)
		assert.Contains(t, errOut, tc.want)
		for _, e := range tc.env {
			os.Unsetenv(e[0])
		}
	}
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	t.Setenv("JOB_COMPLETION_COUNT", "4")
	code, out, _ := orrery(t, "sim", "sweep", "--seeds", "1-8", "--workload", "register", "--ops", "10", "--jobs", "1")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "sweep: 2 seeds  shard: 3/4")
}

// --baseline holds a sweep's per-seed costs against a kept summary of the same setup: the
// same code costs the same (exit 0), a baseline that cost less on every seed makes the sweep
// a regression (exit 4, the measure named), and one of another setup is refused.
func TestSweepBaseline(t *testing.T) {
	dir := t.TempDir()
	world := []string{"--workload", "raftlog", "--seeds", "1-30", "--jobs", "2", "--evidence", "0", "--check-determinism-every", "0"}
	base := filepath.Join(dir, "base.json")
	code, out, errOut := orrery(t, append([]string{"sim", "sweep", "--json", base}, world...)...)
	require.Equal(t, 0, code, out+errOut)
	rep := readReport(t, base)
	require.Len(t, rep.Costs, 30)
	for _, c := range rep.Costs {
		require.Positive(t, c.Messages)
		require.Positive(t, c.Syncs)
		require.Positive(t, c.Stored)
	}

	code, out, errOut = orrery(t, append([]string{"sim", "sweep", "--baseline", base}, world...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "cost against the baseline, over 30 common seeds:")
	assert.Contains(t, out, "messages +0.0% (0 of 30 seeds up, 0 down, p=1)")
	assert.NotContains(t, out, "REGRESSION")

	for i := range rep.Costs {
		rep.Costs[i].Messages = rep.Costs[i].Messages * 9 / 10
	}
	cheaper := filepath.Join(dir, "cheaper.json")
	require.NoError(t, writeReport(cheaper, rep))
	code, out, errOut = orrery(t, append([]string{"sim", "sweep", "--baseline", cheaper}, world...)...)
	require.Equal(t, exitRegression, code, out+errOut)
	assert.Regexp(t, `messages \+1\d\.\d% \(30 of 30 seeds up, 0 down, p=\de-\d+\)  REGRESSION`, out)

	other := []string{"sim", "sweep", "--baseline", base, "--workload", "raftreg", "--seeds", "1-3", "--evidence", "0"}
	code, _, errOut = orrery(t, other...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "was swept with")
}
