package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scenario's recorded world wins over the world flags: a scenario recorded with a kv bug
// replays as the kv workload with that bug (not the default all workload), flags that
// agree with it are accepted, and flags that contradict it are refused with exit code 2,
// naming the flag and what the scenario records.
func TestSimRunScenarioWorldWins(t *testing.T) {
	dir := t.TempDir()
	buggy := filepath.Join(dir, "buggy.json")
	code, out, errOut := orrery(t, "sim", "run", "--seed", "12", "--workload", "kv", "--ops", "30",
		"--bug", "kv.stale-read", "--save-scenario", buggy, "--out", t.TempDir())
	require.Equal(t, exitViolation, code, out+errOut)
	clean := filepath.Join(dir, "clean.json")
	code, out, errOut = orrery(t, "sim", "run", "--seed", "3", "--workload", "kv", "--ops", "20",
		"--faults", "none", "--save-scenario", clean)
	require.Equal(t, exitOK, code, out+errOut)

	for _, args := range [][]string{
		{},
		{"--bug", "kv.stale-read"},
		{"--workload", "kv", "--nodes", "3", "--clients", "4", "--seed", "12", "--bug", "kv.stale-read",
			"--op-timeout", "1s", "--liveness", "10s", "--check-timeout", "20s"},
	} {
		code, out, errOut := orrery(t, append([]string{"sim", "run", "--scenario", buggy, "--out", t.TempDir()}, args...)...)
		assert.Equal(t, exitViolation, code, "%v: %s%s", args, out, errOut)
		assert.Contains(t, out, "workload: kv  servers: 3", args)
		assert.Contains(t, out, "scenario expects: safety: not linearizable; got: safety: not linearizable", args)
	}

	for _, tc := range []struct {
		scenario string
		args     []string
		want     string
	}{
		{buggy, []string{"--bug", "register.skip-writeback"},
			"scenario " + buggy + " records bugs [kv.stale-read]; --bug register.skip-writeback conflicts"},
		{buggy, []string{"--bug", "kv.stale-read", "--bug", "kv.watch-skip"},
			"records bugs [kv.stale-read]; --bug kv.stale-read --bug kv.watch-skip conflicts"},
		{clean, []string{"--bug", "kv.stale-read"}, "scenario " + clean + " records no bugs; --bug kv.stale-read conflicts"},
		{buggy, []string{"--workload", "register"}, "--workload register conflicts with --scenario " + buggy + ", which records workload kv"},
		{buggy, []string{"--nodes", "5"}, "--nodes 5 conflicts with --scenario " + buggy + ", which records nodes 3"},
		{buggy, []string{"--seed", "9"}, "--seed 9 conflicts with --scenario " + buggy + ", which records seed 12"},
		{buggy, []string{"--op-timeout", "2s"}, "--op-timeout 2s conflicts with --scenario " + buggy + ", which records op-timeout 1s"},
		{buggy, []string{"--ops", "30"}, "--ops 30 conflicts with --scenario " + buggy + ": the scenario scripts its own operations and faults"},
		{clean, []string{"--faults", "none"}, "--faults none conflicts with --scenario " + clean},
	} {
		code, out, errOut := orrery(t, append([]string{"sim", "run", "--scenario", tc.scenario}, tc.args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s%s", tc.args, out, errOut)
		assert.Contains(t, errOut, tc.want, tc.args)
		assert.NotContains(t, out, "trace-hash", "%v: a refused mix runs nothing", tc.args)
	}

	// sim shrink reads a scenario the same way.
	code, out, errOut = orrery(t, "sim", "shrink", "--scenario", buggy, "--workload", "register")
	assert.Equal(t, exitUsage, code, out+errOut)
	assert.Contains(t, errOut, "--workload register conflicts with --scenario "+buggy)
}
