package jepsen

import (
	"fmt"
	"strconv"

	"github.com/orrery/orrery/checker/history"
)

// WatchResult is CheckWatch's verdict on a watch history.
type WatchResult struct {
	Valid     Validity
	Reason    string // why Valid is Unknown
	Committed int    // events in the replay
	Watchers  int    // watchers compared with it
	Lagging   int    // watchers that never reached the final revision
	Reads     int    // ok reads of the prefix
	// ReadChecks counts the (read, stream) pairs compared: a read against the replay of
	// every stream (each watcher's and the final replay's) that reached its revision.
	ReadChecks int
	// Problems is what was wrong: for each stream at most one of each kind (order and
	// completeness against the replay, its own PrevKV/version replay, reads), plus the
	// replay's matching with the writes.
	Problems []string
}

// wev is one watch event.
type wev struct {
	rev           int64
	typ, key, val string
}

func (e wev) String() string {
	return fmt.Sprintf("%s %s=%q@%d", e.typ, e.key, e.val, e.rev)
}

// kvState is one version of a key, as a PrevKV or a read reports it.
type kvState struct {
	val                  string
	create, mod, version int64
}

func (k kvState) String() string {
	return fmt.Sprintf("%q (mod %d, create %d, version %d)", k.val, k.mod, k.create, k.version)
}

// evMeta is what an event carries beyond its identity: its create revision, version and
// PrevKV. Histories written before watches asked for PrevKV have none (known false).
type evMeta struct {
	known           bool
	create, version int64
	hasPrev         bool
	prev            kvState
}

// stream is a watcher's (or the final replay's) events, with their metadata.
type stream struct {
	evs  []wev
	meta []evMeta
}

// prefixRead is an ok read of the prefix: at revision rev the prefix held exactly kvs,
// in key order.
type prefixRead struct {
	process int
	rev     int64
	kvs     []keyState
}

type keyState struct {
	key string
	kvState
}

// CheckWatch judges a watch history: writes ("put" with the value written, "delete"),
// what every watcher saw ("watch", completed with a list of [revision, type, key, value]
// events) and a final replay of the same prefix from revision 1 ("replay", same shape).
// The last ok replay is the committed history. It must be ordered, match the writes
// (every event an attempted write, at the revision an acknowledged one reported, and
// every acknowledged put present), and every ok watcher must have seen exactly it:
// no event out of order, duplicated, skipped or invented. A watcher that saw a correct
// prefix but not the end makes the verdict unknown; an info watcher is not compared.
// Events that carry their create revision, version and PrevKV, and ok reads of the
// prefix ("read", completed with [key, value, create, mod, version] lists and the
// response's revision), are further held to each stream's own replay (watchreplay.go).
func CheckWatch(events []history.Event) (WatchResult, error) {
	ops, err := history.Pair(events)
	if err != nil {
		return WatchResult{}, err
	}
	var res WatchResult
	var committed stream
	haveReplay := false
	var watchers []stream
	var writes []history.Op
	var reads []prefixRead
	for _, op := range ops {
		switch op.F {
		case "put", "delete":
			writes = append(writes, op)
		case "revision":
		case "read":
			if op.Outcome != history.OK {
				continue
			}
			rd, err := parseRead(op)
			if err != nil {
				return res, err
			}
			reads = append(reads, rd)
		case "watch", "replay":
			if op.Outcome != history.OK {
				continue
			}
			st, err := parseWatchEvents(op)
			if err != nil {
				return res, err
			}
			if op.F == "replay" {
				committed, haveReplay = st, true
			} else {
				watchers = append(watchers, st)
			}
		default:
			return res, fmt.Errorf("jepsen: %q in a watch history (want put, delete, read, revision, watch or replay)", op.F)
		}
	}
	res.Committed, res.Watchers, res.Reads = len(committed.evs), len(watchers), len(reads)
	if !haveReplay {
		res.Valid, res.Reason = Unknown, "no final replay succeeded"
		return res, nil
	}
	if p := checkOrdered(committed.evs); p != "" {
		res.Problems = append(res.Problems, "replay: "+p)
	}
	res.Problems = append(res.Problems, checkCommitted(committed.evs, writes)...)
	res.Problems = append(res.Problems, res.checkStream("replay", committed, reads)...)
	for i, seen := range watchers {
		name := fmt.Sprintf("watcher %d", i)
		p, lagging := compareWatcher(seen.evs, committed.evs)
		if p != "" {
			res.Problems = append(res.Problems, name+": "+p)
		}
		if lagging {
			res.Lagging++
		}
		res.Problems = append(res.Problems, res.checkStream(name, seen, reads)...)
	}
	switch {
	case len(res.Problems) > 0:
		res.Valid = Invalid
	case res.Lagging > 0:
		res.Valid, res.Reason = Unknown, fmt.Sprintf("%d watchers never reached the final revision", res.Lagging)
	default:
		res.Valid = Valid
	}
	return res, nil
}

// parseWatchEvents reads a watch or replay's events: [revision, type, key, value], and
// since watches ask for PrevKV also [create revision, version, prev] after them, prev
// being null or [value, create revision, mod revision, version].
func parseWatchEvents(op history.Op) (stream, error) {
	bad := func(v history.Value) error {
		return fmt.Errorf("jepsen: %s by process %d: event %s is not [revision, type, key, value] or [revision, type, key, value, create, version, prev]", op.F, op.Process, v)
	}
	list, ok := op.Output.List()
	if !ok {
		return stream{}, fmt.Errorf("jepsen: %s by process %d returned %s, want a list of events", op.F, op.Process, op.Output)
	}
	out := stream{evs: make([]wev, 0, len(list)), meta: make([]evMeta, 0, len(list))}
	for _, v := range list {
		f, ok := v.List()
		if !ok || len(f) != 4 && len(f) != 7 {
			return stream{}, bad(v)
		}
		var s [4]string
		for i := range s {
			if s[i], ok = f[i].Str(); !ok {
				return stream{}, bad(v)
			}
		}
		rev, err := strconv.ParseInt(s[0], 10, 64)
		if err != nil {
			return stream{}, bad(v)
		}
		var m evMeta
		if len(f) == 7 {
			if m, ok = parseMeta(f[4:]); !ok {
				return stream{}, bad(v)
			}
		}
		out.evs = append(out.evs, wev{rev: rev, typ: s[1], key: s[2], val: s[3]})
		out.meta = append(out.meta, m)
	}
	return out, nil
}

// parseMeta reads [create, version, prev] of an event.
func parseMeta(f []history.Value) (evMeta, bool) {
	nums, ok := decimals(f[:2])
	if !ok {
		return evMeta{}, false
	}
	m := evMeta{known: true, create: nums[0], version: nums[1]}
	if f[2].IsNull() {
		return m, true
	}
	p, ok := f[2].List()
	if !ok || len(p) != 4 {
		return evMeta{}, false
	}
	val, ok := p[0].Str()
	nums, ok2 := decimals(p[1:])
	if !ok || !ok2 {
		return evMeta{}, false
	}
	m.hasPrev, m.prev = true, kvState{val: val, create: nums[0], mod: nums[1], version: nums[2]}
	return m, true
}

// decimals reads values that are decimal strings.
func decimals(vs []history.Value) ([]int64, bool) {
	out := make([]int64, len(vs))
	for i, v := range vs {
		s, ok := v.Str()
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// parseRead reads an ok read of the prefix: its revision (the "revision" field) and its
// list of [key, value, create revision, mod revision, version].
func parseRead(op history.Op) (prefixRead, error) {
	bad := func(what string) error {
		return fmt.Errorf("jepsen: read by process %d: %s", op.Process, what)
	}
	rev, ok := opRevision(op)
	if !ok {
		return prefixRead{}, bad("no revision")
	}
	list, ok := op.Output.List()
	if !ok {
		return prefixRead{}, bad(fmt.Sprintf("returned %s, want a list of [key, value, create, mod, version]", op.Output))
	}
	rd := prefixRead{process: op.Process, rev: rev}
	for _, v := range list {
		f, ok := v.List()
		if !ok || len(f) != 5 {
			return prefixRead{}, bad(fmt.Sprintf("%s is not [key, value, create, mod, version]", v))
		}
		key, ok1 := f[0].Str()
		val, ok2 := f[1].Str()
		nums, ok3 := decimals(f[2:])
		if !ok1 || !ok2 || !ok3 {
			return prefixRead{}, bad(fmt.Sprintf("%s is not [key, value, create, mod, version]", v))
		}
		rd.kvs = append(rd.kvs, keyState{key: key, kvState: kvState{val: val, create: nums[0], mod: nums[1], version: nums[2]}})
	}
	return rd, nil
}

// checkOrdered wants revisions that never decrease and no event twice.
func checkOrdered(evs []wev) string {
	for i := 1; i < len(evs); i++ {
		if evs[i].rev < evs[i-1].rev || evs[i] == evs[i-1] {
			return fmt.Sprintf("event %d (%s) after %s", i, evs[i], evs[i-1])
		}
	}
	return ""
}

// checkCommitted matches the replay with the writes.
func checkCommitted(committed []wev, writes []history.Op) []string {
	type kv struct{ key, val string }
	puts := map[kv]history.Op{}
	deletes := map[string]bool{}
	for _, w := range writes {
		if w.F == "delete" {
			deletes[w.Key] = true
			continue
		}
		v, _ := w.Input.Str()
		puts[kv{w.Key, v}] = w
	}
	var problems []string
	seen := map[kv]int64{}
	for _, e := range committed {
		if e.typ == "delete" {
			if !deletes[e.key] {
				problems = append(problems, fmt.Sprintf("committed %s, but no delete of %s was attempted", e, e.key))
			}
			continue
		}
		w, ok := puts[kv{e.key, e.val}]
		if !ok {
			problems = append(problems, fmt.Sprintf("committed %s, which no put attempted", e))
			continue
		}
		if rev, twice := seen[kv{e.key, e.val}]; twice {
			problems = append(problems, fmt.Sprintf("one put applied twice: %s=%q committed at revisions %d and %d", e.key, e.val, rev, e.rev))
			continue
		}
		seen[kv{e.key, e.val}] = e.rev
		if rev, ok := opRevision(w); ok && w.Outcome == history.OK && rev != e.rev {
			problems = append(problems, fmt.Sprintf("committed %s, but the put was acknowledged at revision %d", e, rev))
		}
	}
	for _, w := range writes {
		v, _ := w.Input.Str()
		if w.F == "put" && w.Outcome == history.OK && seen[kv{w.Key, v}] == 0 {
			problems = append(problems, fmt.Sprintf("lost write: put %s=%q by process %d was acknowledged but never committed", w.Key, v, w.Process))
		}
	}
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("... and %d more", len(problems)-5))
	}
	return problems
}

func opRevision(op history.Op) (int64, bool) {
	raw, ok := op.Extra["revision"]
	if !ok {
		return 0, false
	}
	rev, err := strconv.ParseInt(string(raw), 10, 64)
	return rev, err == nil
}

// compareWatcher walks what a watcher saw along the committed events. It reports the
// first divergence, and whether the watcher stopped short of the end.
func compareWatcher(seen, committed []wev) (string, bool) {
	at := map[wev]int{}
	for i, e := range committed {
		at[e] = i
	}
	i := 0
	for n, e := range seen {
		if i < len(committed) && e == committed[i] {
			i++
			continue
		}
		j, ok := at[e]
		switch {
		case !ok:
			return fmt.Sprintf("event %d (%s) was never committed", n, e), false
		case j < i:
			return fmt.Sprintf("event %d (%s) delivered again or out of order (after %s)", n, e, committed[i-1]), false
		default:
			return fmt.Sprintf("gap: event %d (%s) skipped %d committed events from %s", n, e, j-i, committed[i]), false
		}
	}
	return "", i < len(committed)
}
