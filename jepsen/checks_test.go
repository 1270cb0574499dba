package jepsen

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

// h builds a history from compact lines: "process type f key value [revision]", where
// value is JSON ("x" is null) and time is the line number.
func h(t *testing.T, lines ...string) []history.Event {
	t.Helper()
	var out []history.Event
	for i, l := range lines {
		fs := strings.Fields(l)
		require.GreaterOrEqual(t, len(fs), 5, l)
		p, err := strconv.Atoi(fs[0])
		require.NoError(t, err)
		e := history.Event{Process: p, Type: history.Type(fs[1]), F: fs[2], Time: int64(i)}
		if fs[3] != "-" {
			e.Key = fs[3]
		}
		if fs[4] != "x" {
			require.NoError(t, json.Unmarshal([]byte(fs[4]), &e.Value), l)
		}
		if len(fs) > 5 {
			e.Extra = map[string]json.RawMessage{"revision": json.RawMessage(fs[5])}
		}
		out = append(out, e)
	}
	return out
}

func TestCheckSet(t *testing.T) {
	adds := []string{
		`0 invoke add - "1"`, `0 ok add - "1"`,
		`1 invoke add - "2"`, `1 info add - "2"`,
		`2 invoke add - "3"`, `2 fail add - "3"`,
		`3 invoke add - "4"`, `3 ok add - "4"`,
		`4 invoke add - "5"`, // never completed: indefinite
	}
	for _, tc := range []struct {
		name       string
		read       []string
		valid      Validity
		lost, unex []string
		recovered  int
	}{
		{name: "all acknowledged adds read", read: []string{`9 invoke read - x`, `9 ok read - ["1","4"]`}, valid: Valid},
		{name: "indefinite adds may appear", read: []string{`9 invoke read - x`, `9 ok read - ["1","2","4","5"]`}, valid: Valid, recovered: 2},
		{name: "lost add", read: []string{`9 invoke read - x`, `9 ok read - ["4"]`}, valid: Invalid, lost: []string{"1"}},
		{name: "failed add present is unexpected only if never attempted",
			read: []string{`9 invoke read - x`, `9 ok read - ["1","3","4","77"]`}, valid: Invalid, unex: []string{"77"}},
		{name: "no final read", read: []string{`9 invoke read - x`, `9 fail read - x`}, valid: Unknown},
		{name: "the last ok read counts", read: []string{`9 invoke read - x`, `9 ok read - ["4"]`, `9 invoke read - x`, `9 ok read - ["1","4"]`}, valid: Valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CheckSet(h(t, append(append([]string(nil), adds...), tc.read...)...))
			require.NoError(t, err)
			assert.Equal(t, tc.valid, res.Valid, "%+v", res)
			assert.Equal(t, tc.lost, res.Lost)
			assert.Equal(t, tc.unex, res.Unexpected)
			assert.Equal(t, tc.recovered, res.Recovered)
			assert.Equal(t, 5, res.Attempted)
			assert.Equal(t, 2, res.Acknowledged)
		})
	}
}

func TestCheckSetRejectsForeignOps(t *testing.T) {
	_, err := CheckSet(h(t, `0 invoke put k "1"`, `0 ok put k "1"`))
	assert.ErrorContains(t, err, `"put" in a set history`)
}

// The writes of the watch tests: k=a at 2, k=b at 3 (info, but committed), delete k at 4.
var watchWrites = []string{
	`0 invoke put k "a"`, `0 ok put k "a" 2`,
	`1 invoke put k "b"`, `1 info put k "b"`,
	`2 invoke delete k x`, `2 ok delete k x 4`,
	`3 invoke put j "c"`, `3 fail put j "c"`,
}

const (
	evA   = `["2","put","k","a"]`
	evB   = `["3","put","k","b"]`
	evDel = `["4","delete","k",""]`
)

func watchOp(p int, f string, evs ...string) []string {
	v := "[" + strings.Join(evs, ",") + "]"
	return []string{strconv.Itoa(p) + ` invoke ` + f + ` w/ x`, strconv.Itoa(p) + ` ok ` + f + ` w/ ` + v}
}

func TestCheckWatch(t *testing.T) {
	replay := watchOp(9, "replay", evA, evB, evDel)
	for _, tc := range []struct {
		name    string
		ops     [][]string
		valid   Validity
		problem string
	}{
		{name: "watchers saw exactly the committed events",
			ops: [][]string{watchOp(5, "watch", evA, evB, evDel), watchOp(6, "watch", evA, evB, evDel), replay}, valid: Valid},
		{name: "gap", ops: [][]string{watchOp(5, "watch", evA, evDel), replay}, valid: Invalid, problem: "gap"},
		{name: "duplicate", ops: [][]string{watchOp(5, "watch", evA, evB, evB, evDel), replay}, valid: Invalid, problem: "again or out of order"},
		{name: "out of order", ops: [][]string{watchOp(5, "watch", evB, evA, evDel), replay}, valid: Invalid, problem: "gap"},
		{name: "invented event", ops: [][]string{watchOp(5, "watch", evA, `["3","put","k","zz"]`, evDel), replay}, valid: Invalid, problem: "never committed"},
		{name: "lagging watcher", ops: [][]string{watchOp(5, "watch", evA), replay}, valid: Unknown},
		{name: "no replay", ops: [][]string{watchOp(5, "watch", evA, evB, evDel)}, valid: Unknown},
		{name: "replay lost an acknowledged put",
			ops: [][]string{watchOp(5, "watch", evB, evDel), watchOp(9, "replay", evB, evDel)}, valid: Invalid, problem: "lost write"},
		{name: "committed at another revision than acknowledged",
			ops: [][]string{watchOp(9, "replay", `["7","put","k","a"]`, evB, evDel)}, valid: Invalid, problem: "acknowledged at revision 2"},
		{name: "committed a write never attempted",
			ops: [][]string{watchOp(9, "replay", evA, evB, evDel, `["5","put","q","n"]`)}, valid: Invalid, problem: "no put attempted"},
		{name: "one put applied twice",
			ops: [][]string{watchOp(9, "replay", evA, `["3","put","k","a"]`, evDel)}, valid: Invalid, problem: "applied twice"},
		{name: "replay out of order",
			ops: [][]string{watchOp(9, "replay", evB, evA, evDel)}, valid: Invalid, problem: "replay:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := append([]string(nil), watchWrites...)
			for _, o := range tc.ops {
				lines = append(lines, o...)
			}
			res, err := CheckWatch(h(t, lines...))
			require.NoError(t, err)
			assert.Equal(t, tc.valid, res.Valid, "%+v", res)
			if tc.problem != "" {
				require.NotEmpty(t, res.Problems)
				assert.Contains(t, strings.Join(res.Problems, "\n"), tc.problem)
			} else {
				assert.Empty(t, res.Problems)
			}
		})
	}
}

// The watch tests' events as watches with PrevKV report them: k=a created at 2, updated
// to b at 3, deleted at 4.
const (
	fullA   = `["2","put","k","a","2","1",null]`
	fullB   = `["3","put","k","b","2","2",["a","2","2","1"]]`
	fullDel = `["4","delete","k","","0","0",["b","2","3","2"]]`
)

// readOp is an ok read of the prefix at rev that found kvs ([key, value, create, mod,
// version] lists).
func readOp(p, rev int, kvs ...string) []string {
	v := "[" + strings.Join(kvs, ",") + "]"
	return []string{strconv.Itoa(p) + ` invoke read w/ x`, strconv.Itoa(p) + ` ok read w/ ` + v + " " + strconv.Itoa(rev)}
}

func TestCheckWatchReplaysEachStream(t *testing.T) {
	replay := watchOp(9, "replay", fullA, fullB, fullDel)
	reads := append(append(readOp(7, 2, `["k","a","2","2","1"]`), readOp(7, 3, `["k","b","2","3","2"]`)...), readOp(7, 4)...)
	for _, tc := range []struct {
		name       string
		ops        [][]string
		valid      Validity
		problems   []string // each must be reported
		readChecks int
	}{
		{name: "PrevKVs, versions and reads follow the stream",
			ops:   [][]string{watchOp(5, "watch", fullA, fullB, fullDel), watchOp(6, "watch", fullA, fullB, fullDel), replay, reads},
			valid: Valid, readChecks: 9},
		{name: "one watcher got a wrong PrevKV, another missed an event",
			ops: [][]string{
				watchOp(5, "watch", fullA, `["3","put","k","b","2","2",["zz","2","2","1"]]`, fullDel),
				watchOp(6, "watch", fullA, fullDel),
				replay,
			},
			valid: Invalid,
			problems: []string{
				`watcher 0: event 1 (put k="b"@3) carries prevKV "zz" (mod 2, create 2, version 1), but the stream so far says "a" (mod 2, create 2, version 1)`,
				`watcher 1: gap: event 1 (delete k=""@4) skipped 1 committed events`,
				`watcher 1: event 1 (delete k=""@4) carries prevKV "b" (mod 3, create 2, version 2), but the stream so far says "a"`,
			}},
		{name: "an update that restarts the version count",
			ops:      [][]string{watchOp(9, "replay", fullA, `["3","put","k","b","2","1",["a","2","2","1"]]`, fullDel)},
			valid:    Invalid,
			problems: []string{`replay: event 1 (put k="b"@3) has version 1, create revision 2 after "a"`}},
		{name: "a creation with a PrevKV",
			ops:      [][]string{watchOp(9, "replay", `["2","put","k","a","2","1",["q","1","1","1"]]`, fullB, fullDel)},
			valid:    Invalid,
			problems: []string{`replay: event 0 (put k="a"@2) carries prevKV "q"`}},
		{name: "a read that no stream's replay holds",
			ops:   [][]string{watchOp(5, "watch", fullA, fullB, fullDel), replay, readOp(7, 3, `["k","a","2","2","1"]`)},
			valid: Invalid, readChecks: 2,
			problems: []string{
				`watcher 0: a read at revision 3 (process 7) found k="a" (mod 2, create 2, version 1), but the stream replayed to that revision holds k="b" (mod 3, create 2, version 2)`,
				`replay: a read at revision 3`,
			}},
		{name: "a read beyond a lagging watcher is not compared with it",
			ops:   [][]string{watchOp(5, "watch", fullA), replay, readOp(7, 4)},
			valid: Unknown, readChecks: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := append([]string(nil), watchWrites...)
			for _, o := range tc.ops {
				lines = append(lines, o...)
			}
			res, err := CheckWatch(h(t, lines...))
			require.NoError(t, err)
			assert.Equal(t, tc.valid, res.Valid, "%+v", res)
			all := strings.Join(res.Problems, "\n")
			for _, p := range tc.problems {
				assert.Contains(t, all, p)
			}
			if len(tc.problems) == 0 {
				assert.Empty(t, res.Problems)
			}
			if tc.readChecks > 0 {
				assert.Equal(t, tc.readChecks, res.ReadChecks)
			}
		})
	}
}

func TestCheckWatchRejectsMalformedEvents(t *testing.T) {
	_, err := CheckWatch(h(t, watchOp(9, "replay", `["x","put","k","a"]`)...))
	assert.ErrorContains(t, err, "not [revision, type, key, value]")
	_, err = CheckWatch(h(t, watchOp(9, "replay", `["2","put","k","a","2","1",["a"]]`)...))
	assert.ErrorContains(t, err, "or [revision, type, key, value, create, version, prev]")
	_, err = CheckWatch(h(t, `7 invoke read w/ x`, `7 ok read w/ [["k","a"]] 2`))
	assert.ErrorContains(t, err, "is not [key, value, create, mod, version]")
}

// The lock workload's history shape (acquire, write, release with the token as the ok
// value) is what checker.CheckLock judges.
func TestLockHistoriesForCheckLock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lines     []string
		violation string
	}{
		{name: "two holders one after the other", lines: []string{
			`0 invoke acquire lock/mutex/ x`, `0 ok acquire lock/mutex/ "5"`,
			`0 invoke write lock/resource "5"`, `0 ok write lock/resource "5"`,
			`0 invoke release lock/resource "5"`, `0 ok release lock/resource "5"`,
			`1 invoke acquire lock/mutex/ x`, `1 ok acquire lock/mutex/ "9"`,
			`1 invoke write lock/resource "9"`, `1 ok write lock/resource "9"`,
			`1 invoke release lock/resource "9"`, `1 ok release lock/resource "9"`,
		}},
		{name: "a fenced write that failed and an indefinite acquire promise nothing", lines: []string{
			`0 invoke acquire lock/mutex/ x`, `0 ok acquire lock/mutex/ "5"`,
			`0 invoke write lock/resource "5"`, `0 fail write lock/resource "5"`,
			`2 invoke acquire lock/mutex/ x`, `2 info acquire lock/mutex/ x`,
			`1 invoke acquire lock/mutex/ x`, `1 ok acquire lock/mutex/ "9"`,
			`0 invoke release lock/resource "5"`, `0 fail release lock/resource "5"`,
		}},
		{name: "overlapping holders", violation: "exclusion", lines: []string{
			`0 invoke acquire lock/mutex/ x`, `0 ok acquire lock/mutex/ "5"`,
			`1 invoke acquire lock/mutex/ x`, `1 ok acquire lock/mutex/ "9"`,
			`0 invoke release lock/resource "5"`, `0 ok release lock/resource "5"`,
		}},
		{name: "a stale token written after a newer one", violation: "fencing", lines: []string{
			`0 invoke acquire lock/mutex/ x`, `0 ok acquire lock/mutex/ "5"`,
			`1 invoke acquire lock/mutex/ x`, `1 ok acquire lock/mutex/ "9"`,
			`1 invoke write lock/resource "9"`, `1 ok write lock/resource "9"`,
			`0 invoke write lock/resource "5"`, `0 ok write lock/resource "5"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &lockWorkload{}
			rep, err := w.check(h(t, tc.lines...), checker.Options{})
			require.NoError(t, err)
			if tc.violation == "" {
				assert.Equal(t, Valid, rep.valid, rep.summary)
				return
			}
			assert.Equal(t, Invalid, rep.valid)
			assert.Contains(t, rep.summary, tc.violation)
		})
	}
}

func TestValidityJSON(t *testing.T) {
	for v, want := range map[Validity]string{Valid: "true", Invalid: "false", Unknown: `"unknown"`} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		assert.Equal(t, want, string(b))
		var back Validity
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, v, back)
	}
	assert.Equal(t, Invalid, worst(Valid, Unknown, Invalid))
	assert.Equal(t, Unknown, worst(Valid, Unknown))
}

// A real 3-node run under every nemesis (seed 3, watch workload, 12 s, faults every 2 s)
// committed one Put at two revisions; the watchers and the replay agree on it.
func TestCheckWatchRegressionPutAppliedTwice(t *testing.T) {
	f, err := os.Open("testdata/watch-put-applied-twice.jsonl")
	require.NoError(t, err)
	defer f.Close()
	events, err := history.Read(f)
	require.NoError(t, err)
	res, err := CheckWatch(events)
	require.NoError(t, err)
	assert.Equal(t, Invalid, res.Valid)
	assert.Contains(t, strings.Join(res.Problems, "\n"), `one put applied twice: watch/k2="274" committed at revisions 296 and 297`)
}

// A real 3-node run (no faults, 4 s, seed 11) with the planted bug kv.watch-prevkv-self:
// every watcher, and the final replay, get the same wrong PrevKVs, so they agree with each
// other; only each stream's own replay shows the PrevKVs do not follow.
func TestCheckWatchRegressionPrevKVSelf(t *testing.T) {
	f, err := os.Open("testdata/watch-prevkv-self.jsonl")
	require.NoError(t, err)
	defer f.Close()
	events, err := history.Read(f)
	require.NoError(t, err)
	res, err := CheckWatch(events)
	require.NoError(t, err)
	assert.Equal(t, Invalid, res.Valid)
	all := strings.Join(res.Problems, "\n")
	assert.Contains(t, all, `replay: event 3 (delete watch/k0=""@5) carries prevKV nothing, but the stream so far says "1" (mod 2, create 2, version 1)`)
	for i := range 3 {
		assert.Contains(t, all, fmt.Sprintf("watcher %d: event", i), "every watcher's own replay fails")
	}
	assert.NotContains(t, all, "gap", "the streams agree with each other")
}
