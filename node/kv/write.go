package kv

import "bytes"

// writeTxn collects the changes of one command. All of them get the revision rev = the
// store's revision + 1; the store moves to rev only if something changed. Entries go into
// the key index at once, so later reads of the same txn (at curRev) see them.
type writeTxn struct {
	s       *Store
	rev     int64
	changes []*entry
	split   []Event // events of revisions already committed by split (kv.txn-nonatomic only)
}

func (s *Store) newWrite() *writeTxn { return &writeTxn{s: s, rev: s.rev + 1} }

// curRev is the revision reads inside the txn see: the new one once something changed.
func (w *writeTxn) curRev() int64 {
	if len(w.changes) > 0 {
		return w.rev
	}
	return w.rev - 1
}

// get returns key's current value inside the txn, or nil.
func (w *writeTxn) get(key []byte) *entry {
	if h := w.s.index.get(key); h != nil {
		return h.at(w.curRev())
	}
	return nil
}

// put writes key, moving it to lease (0: none).
func (w *writeTxn) put(key, value []byte, lease LeaseID) {
	h := w.s.index.getOrCreate(key)
	kv := KeyValue{Key: h.key, CreateRevision: w.rev, ModRevision: w.rev, Version: 1,
		Value: bytes.Clone(value), Lease: lease}
	if prev := h.latest(); prev != nil {
		kv.CreateRevision = prev.kv.CreateRevision
		kv.Version = prev.kv.Version + 1
		w.s.detach(prev.kv.Lease, h.key)
	}
	w.s.attach(lease, h.key)
	w.add(h, &entry{kv: kv})
}

// deleteRange tombstones every live key in sp and returns how many there were.
func (w *writeTxn) deleteRange(sp span) int64 {
	var live []*keyHistory
	w.s.index.ascend(sp, func(h *keyHistory) bool {
		if sp.contains(h.key) && h.latest() != nil {
			live = append(live, h)
		}
		return true
	})
	for _, h := range live {
		w.s.detach(h.latest().kv.Lease, h.key)
		w.add(h, &entry{kv: KeyValue{Key: h.key, ModRevision: w.rev}, tomb: true})
	}
	return int64(len(live))
}

func (w *writeTxn) add(h *keyHistory, e *entry) {
	e.sub = int64(len(w.changes))
	h.revs = append(h.revs, e)
	w.changes = append(w.changes, e)
}

// commit makes the changes a revision and returns its events (nil if nothing changed).
func (w *writeTxn) commit() []Event {
	if len(w.changes) == 0 {
		return w.split
	}
	w.s.rev = w.rev
	w.s.log.append(w.rev, w.changes)
	evs := make([]Event, len(w.split), len(w.split)+len(w.changes))
	copy(evs, w.split)
	for _, e := range w.changes {
		evs = append(evs, e.event())
	}
	return evs
}

// splitRevision is the write path of the planted bug kv.txn-nonatomic: the changes made so
// far become a revision of their own and later ones go to the next revision, so a reader
// or watcher of the intermediate revision sees part of a txn. Correct code never calls it.
func (w *writeTxn) splitRevision() {
	if len(w.changes) == 0 {
		return
	}
	w.split = w.commit()
	w.rev++
	w.changes = nil
}
