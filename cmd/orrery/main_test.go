package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orrery runs the CLI in-process and returns its exit code and output.
func orrery(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"orrery"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

var hashRE = regexp.MustCompile(`trace-hash: ([0-9a-f]{64})`)

func traceHash(t *testing.T, out string) string {
	t.Helper()
	m := hashRE.FindStringSubmatch(out)
	require.NotNil(t, m, "no trace-hash in:\n%s", out)
	return m[1]
}

func TestSimRunIsReproducible(t *testing.T) {
	code, a, _ := orrery(t, "sim", "run", "--seed", "7", "--workload", "register")
	require.Equal(t, exitOK, code, a)
	assert.Contains(t, a, "result: PASS")
	_, b, _ := orrery(t, "sim", "run", "--seed", "7", "--workload", "register")
	_, c, _ := orrery(t, "sim", "run", "--seed", "8", "--workload", "register")
	assert.Equal(t, traceHash(t, a), traceHash(t, b))
	assert.NotEqual(t, traceHash(t, a), traceHash(t, c))
}

// The acceptance path: a sweep with a planted bug fails and prints a replay command; the
// replay fails again with the same trace hash; orrery check confirms the written history.
func TestBugSweepReplayAndCheck(t *testing.T) {
	out := t.TempDir()
	code, sweep, _ := orrery(t, "sim", "sweep", "--seeds", "1-200", "--jobs", "2", "--stop-after", "1",
		"--bug", "register.skip-writeback", "--out", out)
	require.Equal(t, exitViolation, code, sweep)
	assert.Contains(t, sweep, "seeds run:")
	m := regexp.MustCompile(`FAIL seed (\d+) \(safety\).*\n  replay: (.*)\n  evidence: (.*)`).FindStringSubmatch(sweep)
	require.NotNil(t, m, sweep)
	seed, replay, evidence := m[1], m[2], m[3]
	assert.Contains(t, replay, "sim run --seed "+seed+" --workload register --bug register.skip-writeback")

	args := strings.Fields(replay)
	idx := indexOf(args, "sim")
	require.GreaterOrEqual(t, idx, 0, replay)
	code, first, _ := orrery(t, append(args[idx:], "--out", t.TempDir())...)
	require.Equal(t, exitViolation, code, first)
	code, second, _ := orrery(t, append(args[idx:], "--out", t.TempDir())...)
	require.Equal(t, exitViolation, code, second)
	assert.Equal(t, traceHash(t, first), traceHash(t, second))
	assert.Contains(t, first, "result: FAIL (safety): not linearizable")

	code, check, _ := orrery(t, "check", filepath.Join(evidence, "history.jsonl"), "--model", "register",
		"--html", filepath.Join(t.TempDir(), "v.html"))
	assert.Equal(t, exitViolation, code)
	assert.Contains(t, check, "violation: not linearizable")
}

func TestCheckAcceptsALinearizableHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(`{"process":0,"type":"invoke","f":"put","key":"a","value":"1","time":1}
{"process":0,"type":"ok","f":"put","key":"a","value":"1","time":2}
{"process":1,"type":"invoke","f":"get","key":"a","value":null,"time":3}
{"process":1,"type":"ok","f":"get","key":"a","value":"1","time":4}
`), 0o644))
	code, out, _ := orrery(t, "check", path)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "ok: linearizable (2 operations on 1 keys, model register)")
}

func TestBadUsageExitsTwo(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"process\":0,\"type\":\"bogus\",\"f\":\"get\",\"time\":1}\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "run"}, `Required flag "seed" not set`},
		{[]string{"sim", "run", "--seed", "x"}, "invalid value"},
		{[]string{"sim", "run", "--seed", "1", "--workload", "nope"}, `unknown workload "nope"`},
		{[]string{"sim", "run", "--seed", "1", "--faults", "drop,meteor"}, `unknown fault "meteor"`},
		{[]string{"sim", "run", "--seed", "1", "--bug", "raft.nope"}, `unknown bug "raft.nope"`},
		{[]string{"sim", "run", "--seed", "1", "--ops", "0"}, "--ops must be at least 1"},
		{[]string{"sim", "sweep", "--seeds", "9-1"}, "A <= B"},
		{[]string{"check"}, "want exactly one history FILE"},
		{[]string{"check", "/nonexistent/h.jsonl"}, "no such file"},
		{[]string{"check", bad}, "line 1"},
		{[]string{"check", bad, "--model", "lock"}, "line 1"},
	} {
		code, out, errOut := orrery(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v: %s%s", tc.args, out, errOut)
		assert.Contains(t, out+errOut, tc.want, "%v", tc.args)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := orrery(t, "version")
	assert.Equal(t, exitOK, code)
	assert.Regexp(t, `^orrery \S+ \(go1\.\d+`, out)
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

func TestFlagsMayFollowOperands(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct{ in, want string }{
		{"orrery check h.jsonl --model kv", "orrery check --model kv h.jsonl"},
		{"orrery check h.jsonl --model=kv --html out.html", "orrery check --model=kv --html out.html h.jsonl"},
		{"orrery check --model kv h.jsonl", "orrery check --model kv h.jsonl"},
		{"orrery check h.jsonl -- --odd-name", "orrery check h.jsonl -- --odd-name"},
		{"orrery sim run --seed 1 --trace", "orrery sim run --seed 1 --trace"},
		{"orrery nope a --b", "orrery nope a --b"},
	} {
		assert.Equal(t, tc.want, strings.Join(interspersed(app, strings.Fields(tc.in)), " "), tc.in)
	}
}
