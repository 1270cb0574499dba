package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
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
	code, sweep, _ := orrery(t, "sim", "sweep", "--workload", "register", "--seeds", "1-200", "--jobs", "2", "--stop-after", "1",
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

// The list-append histories of checker/elle's golden tests, through the command line.
func TestCheckAppendModel(t *testing.T) {
	dir := filepath.Join("..", "..", "checker", "elle", "testdata")
	code, out, _ := orrery(t, "check", filepath.Join(dir, "concurrent.ok.jsonl"), "--model", "append")
	assert.Equal(t, exitOK, code, out)
	assert.Equal(t, "ok: strict serializable (4 transactions on 3 keys)\n", out)

	code, out, _ = orrery(t, "check", "--model", "append", filepath.Join(dir, "read-skew.violation.jsonl"))
	assert.Equal(t, exitViolation, code, out)
	assert.Equal(t, "violation: not serializable (4 transactions on 2 keys, 1 anomalies)\n"+
		"G-single: T3 (process 1: [r x [1]] [r y [1]]) -rw(x)-> T4 (process 2: [append x 2] [append y 1]) -wr(y)-> T3\n", out)

	stale := filepath.Join(t.TempDir(), "stale.jsonl")
	require.NoError(t, os.WriteFile(stale, []byte(`{"process":0,"type":"invoke","f":"txn","value":[["append","x",1]],"time":1}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1]],"time":2}
{"process":1,"type":"invoke","f":"txn","value":[["r","x",null]],"time":3}
{"process":1,"type":"ok","f":"txn","value":[["r","x",[]]],"time":4}
`), 0o644))
	code, out, _ = orrery(t, "check", stale, "--model", "append")
	assert.Equal(t, exitViolation, code, out)
	assert.Contains(t, out, "violation: serializable, but not strict serializable")
	assert.Contains(t, out, "G-single-realtime: T1")
}

func TestBadUsageExitsTwo(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"process\":0,\"type\":\"bogus\",\"f\":\"get\",\"time\":1}\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "run"}, "needs --seed N or --scenario FILE"},
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
		{[]string{"check", bad, "--model", "append"}, "line 1"},
		{[]string{"check", "../../checker/testdata/info-and-fail.kv.ok.jsonl", "--model", "append"}, `has f "put", want "txn"`},
		{[]string{"check", "../../checker/elle/testdata/concurrent.ok.jsonl", "--model", "append", "--html", "x.html"}, "--html"},
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

// TestKVHistoryCheck: a kv history from the simulator passes `orrery check --model kv`;
// the same history with a stale read appended (a get, after a later put completed,
// returning the value that put replaced) fails, naming the read, and the visualisation
// is written.
func TestKVHistoryCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.jsonl")
	code, run, _ := orrery(t, "sim", "run", "--seed", "4", "--workload", "kv", "--faults", "none", "--history", path)
	require.Equal(t, exitOK, code, run)
	code, out, _ := orrery(t, "check", path, "--model", "kv")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "ok: linearizable")

	f, err := os.Open(path)
	require.NoError(t, err)
	events, err := history.Read(f)
	f.Close()
	require.NoError(t, err)
	// A put that completed, then another put of the same key invoked after it: reading
	// the first one's value after the end is stale (values are unique per key).
	invoked := map[int]int64{}
	lastPut := map[string]history.Event{}
	var older *history.Event
	var oldValue string
	maxProc, end := 0, int64(0)
	for _, e := range events {
		maxProc, end = max(maxProc, e.Process), max(end, e.Time)
		if e.Type == history.Invoke {
			invoked[e.Process] = e.Time
			continue
		}
		if e.F != "put" || e.Type != history.OK {
			continue
		}
		if prev, ok := lastPut[e.Key]; ok && invoked[e.Process] > prev.Time {
			p := prev
			older, oldValue = &p, mustStr(t, prev.Value)
		}
		lastPut[e.Key] = e
	}
	require.NotNil(t, older, "the history has no two sequential puts of one key")
	stale := []history.Event{
		{Process: maxProc + 1, Type: history.Invoke, F: "get", Key: older.Key, Value: history.Null(), Time: end + 1},
		{Process: maxProc + 1, Type: history.OK, F: "get", Key: older.Key, Value: history.Str(oldValue), Time: end + 2},
	}
	edited := filepath.Join(dir, "stale.jsonl")
	w, err := os.Create(edited)
	require.NoError(t, err)
	require.NoError(t, history.Write(w, append(events, stale...)))
	require.NoError(t, w.Close())
	html := filepath.Join(dir, "v.html")
	code, out, _ = orrery(t, "check", edited, "--model", "kv", "--html", html)
	require.Equal(t, exitViolation, code, out)
	assert.Contains(t, out, "violation: not linearizable")
	assert.Contains(t, out, fmt.Sprintf("get %s -> %q", older.Key, oldValue))
	st, err := os.Stat(html)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}

func mustStr(t *testing.T, v history.Value) string {
	t.Helper()
	s, ok := v.Str()
	require.True(t, ok)
	return s
}

// sim run --check-determinism runs twice and reports agreement; sim shrink writes a
// minimal scenario that sim run --scenario replays to the same failure.
func TestSimDeterminismAndShrink(t *testing.T) {
	code, out, errOut := orrery(t, "sim", "run", "--seed", "3", "--ops", "20", "--check-determinism")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "determinism: two runs agree on all")

	path := filepath.Join(t.TempDir(), "min.json")
	code, out, errOut = orrery(t, "sim", "shrink", "--seed", "12", "--workload", "kv", "--ops", "30",
		"--bug", "kv.stale-read", "--out", path, "--max-runs", "300")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "replay:  ")
	assert.Contains(t, out, "sim run --scenario "+path)
	code, out, _ = orrery(t, "sim", "run", "--scenario", path, "--out", t.TempDir())
	assert.Equal(t, exitViolation, code, out)
	assert.Contains(t, out, "scenario expects: safety: not linearizable; got: safety: not linearizable")
}

func TestMutateBadUsage(t *testing.T) {
	dir := t.TempDir()
	noReason := filepath.Join(dir, "equiv.txt")
	require.NoError(t, os.WriteFile(noReason, []byte("app.go:1:2:arith\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mutate", "--seeds", "9-1"}, "A <= B"},
		{[]string{"mutate", "--jobs", "0"}, "--jobs and --sweep-jobs must be at least 1"},
		{[]string{"mutate", "--sweep-jobs", "0"}, "--jobs and --sweep-jobs must be at least 1"},
		{[]string{"mutate", "--sample", "-1"}, "--sample and --timeout must not be negative"},
		{[]string{"mutate", "--workloads", "node/raft"}, "--workloads: want PKG=W1,W2"},
		{[]string{"mutate", "--workloads", "node/raft=raftlog,nope"}, `unknown workload "nope"`},
		{[]string{"mutate", "--package", "./node/client"}, "no default workloads for it"},
		{[]string{"mutate", "--workloads", "=all"}, "--workloads: want PKG=W1,W2"},
		{[]string{"mutate", "--package", "./nowhere", "--workloads", "nowhere=all"}, "not a directory"},
		{[]string{"mutate", "--equivalent", filepath.Join(dir, "missing.txt")}, "no such file"},
		{[]string{"mutate", "--equivalent", noReason}, "no reason given"},
		{[]string{"mutate", "node/raft"}, `unexpected argument "node/raft"`},
	} {
		code, out, errOut := orrery(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v: %s%s", tc.args, out, errOut)
		assert.Contains(t, out+errOut, tc.want, "%v", tc.args)
	}
}

// mutate --list prints the deterministic sample without running anything.
func TestMutateList(t *testing.T) {
	code, a, errOut := orrery(t, "mutate", "--list", "--package", "./node/kvserver", "--sample", "3", "--sample-seed", "5")
	require.Equal(t, exitOK, code, a+errOut)
	assert.Regexp(t, `^node/kvserver: 3 of \d+ mutants \(workloads mvcc,all,lock\)\n(  app\.go:\d+:\d+:[a-z+-]+  .+\n){3}$`, a)
	_, b, _ := orrery(t, "mutate", "--list", "--package", "./node/kvserver", "--sample", "3", "--sample-seed", "5")
	assert.Equal(t, a, b)
}
