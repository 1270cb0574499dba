package jepsen

import (
	"fmt"
	"strconv"

	"github.com/orrery/orrery/checker/history"
)

// WatchResult is CheckWatch's verdict on a watch history.
type WatchResult struct {
	Valid     Validity
	Reason    string   // why Valid is Unknown
	Committed int      // events in the replay
	Watchers  int      // watchers compared with it
	Lagging   int      // watchers that never reached the final revision
	Problems  []string // what was wrong, at most one per watcher plus the replay's
}

// wev is one watch event.
type wev struct {
	rev           int64
	typ, key, val string
}

func (e wev) String() string {
	return fmt.Sprintf("%s %s=%q@%d", e.typ, e.key, e.val, e.rev)
}

// CheckWatch judges a watch history: writes ("put" with the value written, "delete"),
// what every watcher saw ("watch", completed with a list of [revision, type, key, value]
// events) and a final replay of the same prefix from revision 1 ("replay", same shape).
// The last ok replay is the committed history. It must be ordered, match the writes
// (every event an attempted write, at the revision an acknowledged one reported, and
// every acknowledged put present), and every ok watcher must have seen exactly it:
// no event out of order, duplicated, skipped or invented. A watcher that saw a correct
// prefix but not the end makes the verdict unknown; an info watcher is not compared.
func CheckWatch(events []history.Event) (WatchResult, error) {
	ops, err := history.Pair(events)
	if err != nil {
		return WatchResult{}, err
	}
	var res WatchResult
	var committed []wev
	haveReplay := false
	var watchers [][]wev
	var writes []history.Op
	for _, op := range ops {
		switch op.F {
		case "put", "delete":
			writes = append(writes, op)
		case "revision":
		case "watch", "replay":
			if op.Outcome != history.OK {
				continue
			}
			evs, err := parseWatchEvents(op)
			if err != nil {
				return res, err
			}
			if op.F == "replay" {
				committed, haveReplay = evs, true
			} else {
				watchers = append(watchers, evs)
			}
		default:
			return res, fmt.Errorf("jepsen: %q in a watch history (want put, delete, revision, watch or replay)", op.F)
		}
	}
	res.Committed, res.Watchers = len(committed), len(watchers)
	if !haveReplay {
		res.Valid, res.Reason = Unknown, "no final replay succeeded"
		return res, nil
	}
	if p := checkOrdered(committed); p != "" {
		res.Problems = append(res.Problems, "replay: "+p)
	}
	res.Problems = append(res.Problems, checkCommitted(committed, writes)...)
	for i, seen := range watchers {
		p, lagging := compareWatcher(seen, committed)
		if p != "" {
			res.Problems = append(res.Problems, fmt.Sprintf("watcher %d: %s", i, p))
		}
		if lagging {
			res.Lagging++
		}
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

func parseWatchEvents(op history.Op) ([]wev, error) {
	bad := func(v history.Value) error {
		return fmt.Errorf("jepsen: %s by process %d: event %s is not [revision, type, key, value]", op.F, op.Process, v)
	}
	list, ok := op.Output.List()
	if !ok {
		return nil, fmt.Errorf("jepsen: %s by process %d returned %s, want a list of events", op.F, op.Process, op.Output)
	}
	out := make([]wev, 0, len(list))
	for _, v := range list {
		f, ok := v.List()
		if !ok || len(f) != 4 {
			return nil, bad(v)
		}
		var s [4]string
		for i := range f {
			if s[i], ok = f[i].Str(); !ok {
				return nil, bad(v)
			}
		}
		rev, err := strconv.ParseInt(s[0], 10, 64)
		if err != nil {
			return nil, bad(v)
		}
		out = append(out, wev{rev: rev, typ: s[1], key: s[2], val: s[3]})
	}
	return out, nil
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
