package kv

import "sort"

// entry is one stored revision of one key: a version or a tombstone. Entries are immutable
// once written; the key index and the revision log share them.
type entry struct {
	kv   KeyValue // a tombstone holds only Key and ModRevision
	sub  int64    // position within its revision: events of a txn are ordered by it
	tomb bool
}

func (e *entry) rev() int64 { return e.kv.ModRevision }

// event converts the entry to the event it produced.
func (e *entry) event() Event {
	if e.tomb {
		return Event{Type: EventDelete, KV: e.kv}
	}
	return Event{Type: EventPut, KV: e.kv}
}

// keyHistory is every retained revision of one key, oldest first.
type keyHistory struct {
	key  []byte
	revs []*entry
}

// at returns the entry that was current at rev, or nil if the key did not exist then.
func (h *keyHistory) at(rev int64) *entry {
	e := h.lastAtOrBefore(rev)
	if e == nil || e.tomb {
		return nil
	}
	return e
}

// lastAtOrBefore returns the newest entry with revision <= rev, tombstones included.
func (h *keyHistory) lastAtOrBefore(rev int64) *entry {
	i := sort.Search(len(h.revs), func(i int) bool { return h.revs[i].rev() > rev })
	if i == 0 {
		return nil
	}
	return h.revs[i-1]
}

// latest returns the current entry, or nil if the key is deleted or has no history.
func (h *keyHistory) latest() *entry {
	if len(h.revs) == 0 {
		return nil
	}
	if e := h.revs[len(h.revs)-1]; !e.tomb {
		return e
	}
	return nil
}

// compact drops the entries a compaction at rev makes unreachable: all but the newest entry
// <= rev, and that one too if it is a tombstone older than rev. A tombstone exactly at rev
// stays (as in etcd >= 3.5.16) so that the whole of revision rev can still be replayed to a
// watcher starting there.
func (h *keyHistory) compact(rev int64) {
	i := sort.Search(len(h.revs), func(i int) bool { return h.revs[i].rev() > rev })
	if i == 0 {
		return
	}
	keep := i - 1
	if e := h.revs[keep]; e.tomb && e.rev() < rev {
		keep = i
	}
	h.revs = append(h.revs[:0:0], h.revs[keep:]...)
}
