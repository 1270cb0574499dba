package jepsen

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Agreement is not completeness: a store that dropped one kind of event, or sent wrong
// values, to every watcher alike would pass the comparison of the watchers with the final
// replay. So each stream (every watcher's and the replay's, all from revision 1) is also
// replayed into the store it implies, as the simulator's watch workload does, and held to
// the store itself: every event's PrevKV, version and create revision must follow from
// the stream before it, and every ok read of the prefix, at the revision its response
// reported, must find exactly the keys and versions the replay holds at that revision
// (when the stream got that far). Reads are answered by the store, not the watch, so a
// replay that differs from one is a watch that missed, invented or altered a change.

// keyAt is a key's state from revision rev on; present false once it is deleted.
type keyAt struct {
	rev     int64
	present bool
	kv      kvState
}

// replayed is the store a stream implies: each key's states in revision order.
type replayed map[string][]keyAt

// replayStream builds the store st implies, checking each event against the state before it:
// an update or delete carries the previous version as PrevKV, a put counts the key's
// versions from 1 since its creation (and keeps its create revision), a delete removes
// a key that exists. It returns the first event that breaks one, and ok false when the
// stream has no metadata (a history from before PrevKV), so there is nothing to replay.
// An event not after its key's last one is skipped (checkOrdered reports those).
func replayStream(st stream) (r replayed, problem string, ok bool) {
	r = replayed{}
	for i, e := range st.evs {
		m := st.meta[i]
		if !m.known {
			return nil, "", false
		}
		h := r[e.key]
		var cur *keyAt
		if len(h) > 0 {
			if h[len(h)-1].rev >= e.rev {
				continue
			}
			cur = &h[len(h)-1]
		}
		if p := checkEvent(e, m, cur); p != "" && problem == "" {
			problem = fmt.Sprintf("event %d (%s) %s", i, e, p)
		}
		next := keyAt{rev: e.rev}
		if e.typ == "put" {
			next.present, next.kv = true, kvState{val: e.val, create: m.create, mod: e.rev, version: m.version}
		}
		r[e.key] = append(h, next)
	}
	return r, problem, true
}

// checkEvent holds one event to the state before it (cur nil or not present: absent).
func checkEvent(e wev, m evMeta, cur *keyAt) string {
	had := cur != nil && cur.present
	switch {
	case had != m.hasPrev || had && cur.kv != m.prev:
		return fmt.Sprintf("carries prevKV %s, but the stream so far says %s", prevText(m.hasPrev, m.prev), stateText(cur))
	case e.typ == "delete" && !had:
		return "deletes a key the stream never created (or already deleted)"
	case e.typ == "put" && !had && (m.version != 1 || m.create != e.rev):
		return fmt.Sprintf("creates the key with version %d, create revision %d", m.version, m.create)
	case e.typ == "put" && had && (m.version != cur.kv.version+1 || m.create != cur.kv.create):
		return fmt.Sprintf("has version %d, create revision %d after %s", m.version, m.create, cur.kv)
	}
	return ""
}

func prevText(has bool, k kvState) string {
	if !has {
		return "nothing"
	}
	return k.String()
}

func stateText(cur *keyAt) string {
	if cur == nil || !cur.present {
		return "nothing"
	}
	return cur.kv.String()
}

// at is the replayed store at revision rev, in key order.
func (r replayed) at(rev int64) []keyState {
	var out []keyState
	for _, key := range slices.Sorted(maps.Keys(r)) {
		h := r[key]
		i, _ := slices.BinarySearchFunc(h, rev+1, func(k keyAt, rev int64) int { return cmp.Compare(k.rev, rev) })
		if i > 0 && h[i-1].present {
			out = append(out, keyState{key: key, kvState: h[i-1].kv})
		}
	}
	return out
}

// checkStream replays st and compares the reads it reached with the replay; it returns
// at most one problem of each kind, named after the stream.
func (res *WatchResult) checkStream(name string, st stream, reads []prefixRead) []string {
	r, problem, ok := replayStream(st)
	if !ok {
		return nil
	}
	var out []string
	if problem != "" {
		out = append(out, name+": "+problem)
	}
	last := int64(1) // the empty store's revision: a stream that saw nothing reached it
	if n := len(st.evs); n > 0 {
		last = max(last, st.evs[n-1].rev)
	}
	for _, rd := range reads {
		if rd.rev > last {
			continue
		}
		res.ReadChecks++
		if want := r.at(rd.rev); !slices.Equal(want, rd.kvs) {
			out = append(out, fmt.Sprintf("%s: a read at revision %d (process %d) found %s, but the stream replayed to that revision holds %s",
				name, rd.rev, rd.process, keysText(rd.kvs), keysText(want)))
			break
		}
	}
	return out
}

func keysText(ks []keyState) string {
	if len(ks) == 0 {
		return "nothing"
	}
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.key + "=" + k.kvState.String()
	}
	return strings.Join(parts, ", ")
}
