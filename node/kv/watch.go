package kv

import (
	"bytes"
	"cmp"
	"slices"
)

// WatchRequest creates a watcher on [Key, RangeEnd) (RangeRequest's conventions) for the
// events from StartRevision on (0: from the next revision).
type WatchRequest struct {
	Key            []byte
	RangeEnd       []byte
	StartRevision  int64
	PrevKV         bool // fill Event.PrevKV for updates and deletes
	NoPut          bool // filter out put events
	NoDelete       bool // filter out delete events
	ProgressNotify bool // owed a progress notification at every idle ProgressTick
	WatchID        int64
}

// WatchResponse is one batch for one watcher. A batch holds whole revisions, in order.
// A response without events and without CompactRevision is a progress notification: every
// event up to Header.Revision has been delivered. A response with CompactRevision set says
// the watcher's next revision was compacted away; the watcher is cancelled.
type WatchResponse struct {
	WatchID         int64
	Header          ResponseHeader
	Events          []Event
	CompactRevision int64
	Canceled        bool
}

// maxEventsPerResponse bounds a batch, except that a revision is never split.
const maxEventsPerResponse = 1000

// WatchHub keeps the watchers of one replica. Watchers hold a cursor into the store's
// revision log rather than a queue: Take delivers everything from each cursor up to the
// current revision. So a watcher cannot lag without bound in memory; if the driver lets a
// compaction overtake a cursor, the watcher gets a compacted response and is cancelled,
// like an etcd watcher that fell behind.
type WatchHub struct {
	s         *Store
	watchers  map[int64]*watcher
	order     []*watcher // the watchers by ID: Take's order, without sorting each time
	nextID    int64
	skipBug   bool // BugWatchSkip is on
	prevKVBug bool // BugWatchPrevKV is on
}

type watcher struct {
	req      WatchRequest
	id       int64
	sp       span
	next     int64 // next revision to deliver
	replayTo int64 // revisions <= replayTo were history when the watcher was created
	progress bool  // a progress notification is owed
	active   bool  // delivered events since the last ProgressTick
}

func newWatchHub(s *Store) *WatchHub {
	return &WatchHub{s: s, watchers: map[int64]*watcher{}, skipBug: s.cfg.Bugs.On(BugWatchSkip), prevKVBug: s.cfg.Bugs.On(BugWatchPrevKV)}
}

// Watch creates a watcher and returns its ID: req.WatchID, or the lowest free ID counting
// up from the last one chosen when req.WatchID is 0 (etcd's AutoWatchID).
func (h *WatchHub) Watch(req WatchRequest) (int64, error) {
	if len(req.RangeEnd) != 0 && !isToEnd(req.RangeEnd) && bytes.Compare(req.Key, req.RangeEnd) >= 0 {
		return 0, ErrEmptyWatcherRange
	}
	id := req.WatchID
	if id != 0 && h.watchers[id] != nil {
		return 0, ErrWatcherDuplicateID
	}
	if id == 0 {
		for h.watchers[h.nextID] != nil {
			h.nextID++
		}
		id = h.nextID
		h.nextID++
	}
	w := &watcher{req: req, id: id, sp: mkSpan(req.Key, req.RangeEnd), next: req.StartRevision, replayTo: h.s.rev}
	if w.next <= 0 {
		w.next = h.s.rev + 1
	}
	h.add(w)
	return id, nil
}

// Cancel removes a watcher; undelivered events are dropped.
func (h *WatchHub) Cancel(id int64) error {
	if h.watchers[id] == nil {
		return ErrWatcherNotExist
	}
	h.remove(id)
	return nil
}

func (h *WatchHub) add(w *watcher) {
	h.watchers[w.id] = w
	i, _ := slices.BinarySearchFunc(h.order, w.id, byID)
	h.order = slices.Insert(h.order, i, w)
}

func (h *WatchHub) remove(id int64) {
	delete(h.watchers, id)
	if i, ok := slices.BinarySearchFunc(h.order, id, byID); ok {
		h.order = slices.Delete(h.order, i, i+1)
	}
}

func byID(w *watcher, id int64) int { return cmp.Compare(w.id, id) }

// RequestProgress asks for a progress notification for watcher id. It comes out of the
// next Take, after the events the watcher is owed, so it is only sent once caught up.
func (h *WatchHub) RequestProgress(id int64) error {
	w := h.watchers[id]
	if w == nil {
		return ErrWatcherNotExist
	}
	w.progress = true
	return nil
}

// ProgressTick owes a progress notification to every ProgressNotify watcher that received
// no events since the previous tick. The driver calls it periodically (etcd: every 10 min).
func (h *WatchHub) ProgressTick() {
	for _, w := range h.order {
		if w.req.ProgressNotify && !w.active {
			w.progress = true
		}
		w.active = false
	}
}

// Len returns the number of watchers.
func (h *WatchHub) Len() int { return len(h.watchers) }

// Take returns everything owed to the watchers, by watcher ID: their events up to the
// current revision, then owed progress notifications, or a compacted response.
func (h *WatchHub) Take() []WatchResponse {
	var out []WatchResponse
	for _, w := range slices.Clone(h.order) { // take may cancel (remove) a watcher
		if w.next <= h.s.rev || w.progress || w.next < h.s.compactRev {
			out = h.take(w, out)
		}
	}
	return out
}

func (h *WatchHub) take(w *watcher, out []WatchResponse) []WatchResponse {
	s := h.s
	hdr := s.header()
	if w.next < s.compactRev {
		h.remove(w.id)
		return append(out, WatchResponse{WatchID: w.id, Header: hdr, CompactRevision: s.compactRev, Canceled: true})
	}
	var evs []Event
	for ; w.next <= s.rev; w.next++ {
		evs = h.revisionEvents(w, w.next, evs)
		if len(evs) >= maxEventsPerResponse {
			out = append(out, WatchResponse{WatchID: w.id, Header: hdr, Events: evs})
			evs = nil
			w.active = true
		}
	}
	if len(evs) > 0 {
		out = append(out, WatchResponse{WatchID: w.id, Header: hdr, Events: evs})
		w.active = true
	}
	if w.progress {
		out = append(out, WatchResponse{WatchID: w.id, Header: hdr})
		w.progress = false
	}
	return out
}

// revisionEvents appends the events of rev that w wants.
func (h *WatchHub) revisionEvents(w *watcher, rev int64, evs []Event) []Event {
	n := len(evs)
	for _, e := range h.s.log.at(rev) {
		if !w.sp.contains(e.kv.Key) || e.tomb && w.req.NoDelete || !e.tomb && w.req.NoPut {
			continue
		}
		ev := e.event()
		if w.req.PrevKV && !(ev.Type == EventPut && ev.KV.CreateRevision == rev) {
			at := rev
			if h.prevKVBug {
				at++
			}
			ev.PrevKV = h.s.prevKV(e.kv.Key, at)
		}
		evs = append(evs, ev)
	}
	if h.skipBug && rev <= w.replayTo && len(evs)-n > 1 {
		evs = slices.Delete(evs, n, n+1)
	}
	return evs
}

// prevKV returns key's value just before rev, or nil if it did not exist or that revision
// is compacted.
func (s *Store) prevKV(key []byte, rev int64) *KeyValue {
	if rev-1 < s.compactRev {
		return nil
	}
	h := s.index.get(key)
	if h == nil {
		return nil
	}
	if e := h.at(rev - 1); e != nil {
		kv := e.kv
		return &kv
	}
	return nil
}
