package workload

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
	"github.com/orrery/orrery/sim"
)

// The kv workload's clients also watch every key (prefix "k") for their whole life. A
// watch lives on one server; a client that hears nothing for watchQuiet reopens it on the
// next server from the revision after the last it saw, as etcd's client does after a
// broken stream. In the watch workload clients also rewind now and then: they reopen the
// watch from a random revision they have already seen, so that servers replay history to
// them. Every revision a client releases is observed, so is every revision delivered again
// that differs from the one released, and so is the revision of every txn the client saw
// committed; checkWatches holds them to etcd's promises.
//
// Agreement is not completeness: a store that dropped one kind of event, or sent wrong
// values, from every watcher alike would pass the checks above. So each client also
// replays its own stream into the store it implies (watches ask for PrevKV), and holds
// that replay to the store itself: every event's PrevKV, version and create revision must
// follow from the replayed state, and every read the client completes (at the revision its
// response reports) must find exactly the keys and values the replay holds at that
// revision. Reads are checked for linearizability on their own, so a replay that differs
// from one is a watch that missed, invented or altered a change.

var watchPrefix = []byte("k")

const (
	watchQuiet = 300 * time.Millisecond
	timerWatch = 100 // rsm.Client uses 1
	// rewindOneIn is how often (one tick in so many) a rewinding client reopens its watch
	// from a random revision it has seen, at each watchQuiet tick that heard something.
	rewindOneIn = 3
)

// watchingClient is an rsm.Client that also keeps a watch open.
type watchingClient struct {
	*rsm.Client
	id       component.NodeID
	servers  []component.NodeID
	r        *rand.Rand
	rewind   bool   // reopen the watch from random past revisions now and then
	key, end []byte // the watched range (watchPrefix unless set)
	next     int
	last     int64                // last revision released; 1 (the empty store) at first
	pending  map[int64][]kv.Event // revisions received out of order
	released map[int64]string     // every revision released, as revisionLine
	heard    bool                 // progress since the timer was set
	op       component.Op         // the operation in flight
	// replay is, per watched key, every version the stream released: the key's state
	// from each revision on, nil once deleted.
	replay map[string][]keyAt
	reads  []readCheck // completed reads above last, checked once the stream gets there
	wrong  bool        // a replay check failed: report only the first
	// lost: a compaction overtook the stream (its next revision is gone), so it can
	// neither continue nor be checked; only the mvcc workload compacts.
	lost bool
	// A client talking to fronts opens its watch as a front stream, as a real member's
	// gRPC client does: the call that opened the current one, and on which server.
	stream   uint64
	streamAt component.NodeID
	noPrev   []component.Effect // observations of events without the PrevKV expected
	// history keeps each released revision's events in the order made (their
	// sub-revisions), when set: the mvcc client hashes the store from it.
	history map[int64][]kv.Event
}

// keyAt is a key's state from revision rev on (kv nil: absent).
type keyAt struct {
	rev int64
	kv  *kv.KeyValue
}

// readCheck is a completed read: at revision rev, the keys in [key, end) (one key when
// end is nil) held exactly kvs.
type readCheck struct {
	rev      int64
	key, end []byte
	kvs      []kv.KeyValue
}

func newWatchingClient(id component.NodeID, servers []component.NodeID, r *rand.Rand, rewind bool) *watchingClient {
	return &watchingClient{
		Client: rsm.NewClient(id, servers, kvCodec{}, 150*time.Millisecond),
		id:     id, servers: servers, r: r, rewind: rewind, next: r.IntN(len(servers)), last: 1,
		pending: map[int64][]kv.Event{}, released: map[int64]string{}, replay: map[string][]keyAt{},
	}
}

func (w *watchingClient) Handle(now time.Duration, in component.Input) []component.Effect {
	switch in := in.(type) {
	case component.Start:
		return w.subscribe(w.last + 1)
	case component.Invoke:
		w.op = in.Op
	case component.TimerFired:
		if in.ID == timerWatch {
			return w.tick()
		}
	case component.Receive:
		switch m := in.Msg.(type) {
		case rsm.Pushed:
			return w.events(m.Data)
		case rsm.Reply:
			return w.readCompleted(m.Result, w.txnCommitted(m, w.Client.Handle(now, in)))
		case rsm.Answer:
			effs := w.Client.Handle(now, in)
			return w.readCompleted(m.Result, w.txnCommitted(rsm.Reply{Seq: m.ID, Result: m.Result}, effs))
		}
	}
	return w.Client.Handle(now, in)
}

// tick runs every watchQuiet: a silent watch is reopened on the next server from last+1;
// a rewinding client that heard something may reopen from a random revision it has seen.
func (w *watchingClient) tick() []component.Effect {
	heard := w.heard
	w.heard = false
	switch {
	case w.lost:
		return nil
	case !heard:
		w.next = (w.next + 1) % len(w.servers)
		return w.subscribe(w.last + 1)
	case w.rewind && w.last >= 2 && w.r.IntN(rewindOneIn) == 0:
		w.next = (w.next + 1) % len(w.servers)
		return w.subscribe(2 + w.r.Int64N(w.last-1))
	}
	return []component.Effect{component.SetTimer{ID: timerWatch, After: watchQuiet}}
}

// watchRange is the range the client watches: watchPrefix unless set.
func (w *watchingClient) watchRange() (key, end []byte) {
	if w.key != nil {
		return w.key, w.end
	}
	return watchPrefix, kv.Prefix(watchPrefix)
}

func (w *watchingClient) subscribe(from int64) []component.Effect {
	key, end := w.watchRange()
	wr := kv.WatchRequest{Key: key, RangeEnd: end, StartRevision: from, PrevKV: true}
	timer := component.SetTimer{ID: timerWatch, After: watchQuiet}
	to := w.servers[w.next]
	if w.Client.Fronted() {
		// Close the stream being replaced (a client closing its gRPC stream), then open
		// the new one.
		var effs []component.Effect
		if w.stream != 0 {
			effs = append(effs, component.Send{To: w.streamAt, Msg: rsm.Abandon{ID: w.stream}})
		}
		call := w.Client.StreamCall(kv.EncodeWatchRequest(wr))
		w.stream, w.streamAt = call.ID, to
		return append(effs, component.Send{To: to, Msg: call}, timer)
	}
	req := rsm.Request{Client: uint64(w.id), Stream: true, Payload: kv.EncodeWatchRequest(wr)}
	return []component.Effect{component.Send{To: to, Msg: req}, timer}
}

// events takes a push. The simulated network, unlike a TCP stream, may reorder and drop
// messages, so revisions are released in order: every revision of this workload writes a
// "k" key, so the next one to release is always last+1, and anything later waits in
// pending. A revision may hold several events (a txn), but a watch response never splits
// one, so each revision is taken whole from one response. Anything at or below last is
// delivered again (a reopened or rewound watch) and is dropped, as etcd's client does,
// after checking it matches what was released. A gap that outlives watchQuiet makes the
// client reopen the watch from last+1.
func (w *watchingClient) events(data []byte) []component.Effect {
	resp, err := kv.DecodeWatchResponse(data)
	if err != nil {
		return []component.Effect{component.Observe{Kind: "watch-error", Value: err.Error()}}
	}
	if c := resp.CompactRevision; c != 0 {
		return w.compacted(c)
	}
	var effs []component.Effect
	for rev, evs := range byRevision(resp.Events) {
		line := revisionLine(rev, eventTexts(evs))
		switch {
		case rev > w.last:
			w.pending[rev] = evs
		case line != w.released[rev]:
			effs = append(effs, component.Observe{Kind: "watch-again", Value: line})
		}
	}
	for {
		evs, ok := w.pending[w.last+1]
		if !ok {
			break
		}
		delete(w.pending, w.last+1)
		w.last++
		line := revisionLine(w.last, eventTexts(evs))
		w.released[w.last] = line
		w.heard = true
		effs = append(effs, component.Observe{Kind: "watch", Value: line})
		effs = w.noteWrong(effs, w.apply(w.last, evs))
		effs = append(effs, w.noPrev...)
		w.noPrev = nil
	}
	return w.checkReads(effs)
}

// compacted takes a watch cancelled by compaction: a rewind below the compacted revision
// reopens from last+1; a stream whose next revision is gone is lost.
func (w *watchingClient) compacted(c int64) []component.Effect {
	switch {
	case w.lost:
		return nil
	case c <= w.last+1:
		return w.subscribe(w.last + 1)
	}
	w.lost = true
	return []component.Effect{component.Observe{Kind: "watch-lost", Value: fmt.Sprintf("%d %d", c, w.last)}}
}

// apply replays one released revision, checking each event against the state before it:
// an update or delete carries the previous version as PrevKV, a put counts the key's
// versions from 1 since its creation, a delete removes a key that exists.
func (w *watchingClient) apply(rev int64, evs []kv.Event) error {
	for _, ev := range evs {
		key := string(ev.KV.Key)
		prev := w.stateAt(key, rev-1)
		switch {
		case prev != nil && ev.PrevKV == nil:
			// As in etcd, a stream replayed from a compacted revision carries no PrevKV
			// for the first revision after it: the version before is gone. Whether one
			// was is for checkWatches, which sees every client's compactions.
			w.noPrev = append(w.noPrev, component.Observe{Kind: "prevkv-missing", Value: fmt.Sprintf("%d %s", rev, eventText(ev))})
		case !samePrev(prev, ev.PrevKV):
			return fmt.Errorf("revision %d: %s carries prevKV %s, the stream so far says %s", rev, eventText(ev), kvText(ev.PrevKV), kvText(prev))
		case ev.Type == kv.EventDelete && prev == nil:
			return fmt.Errorf("revision %d: %s deletes a key the stream never created", rev, eventText(ev))
		case ev.Type == kv.EventPut && prev == nil && (ev.KV.Version != 1 || ev.KV.CreateRevision != rev):
			return fmt.Errorf("revision %d: %s creates the key with version %d, create revision %d", rev, eventText(ev), ev.KV.Version, ev.KV.CreateRevision)
		case ev.Type == kv.EventPut && prev != nil && (ev.KV.Version != prev.Version+1 || ev.KV.CreateRevision != prev.CreateRevision):
			return fmt.Errorf("revision %d: %s has version %d, create revision %d after %s", rev, eventText(ev), ev.KV.Version, ev.KV.CreateRevision, kvText(prev))
		}
		var now *kv.KeyValue
		if ev.Type == kv.EventPut {
			c := ev.KV
			now = &c
		}
		w.replay[key] = append(w.replay[key], keyAt{rev: rev, kv: now})
	}
	if w.history != nil {
		w.history[rev] = evs
	}
	return nil
}

// samePrev reports whether an event's PrevKV is the replayed state before it.
func samePrev(prev, got *kv.KeyValue) bool {
	if prev == nil || got == nil {
		return prev == nil && got == nil
	}
	return sameKV(*prev, *got)
}

func sameKV(a, b kv.KeyValue) bool {
	return string(a.Key) == string(b.Key) && string(a.Value) == string(b.Value) && a.CreateRevision == b.CreateRevision &&
		a.ModRevision == b.ModRevision && a.Version == b.Version && a.Lease == b.Lease
}

func kvText(k *kv.KeyValue) string {
	if k == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q=%q (mod %d, create %d, version %d, lease %d)", k.Key, k.Value, k.ModRevision, k.CreateRevision, k.Version, k.Lease)
}

// stateAt is key's replayed state at rev (nil: absent).
func (w *watchingClient) stateAt(key string, rev int64) *kv.KeyValue {
	h := w.replay[key]
	i, _ := slices.BinarySearchFunc(h, rev+1, func(k keyAt, r int64) int { return cmp.Compare(k.rev, r) })
	if i == 0 {
		return nil
	}
	return h[i-1].kv
}

// readCompleted notes a read that completed ok, to compare with the replay at its revision.
func (w *watchingClient) readCompleted(result []byte, effs []component.Effect) []component.Effect {
	if (w.op.F != "get" && w.op.F != "mget") || !completedOK(effs, w.op.ID) {
		return effs
	}
	a, err := kv.DecodeAnswer(result)
	if err != nil || a.Range == nil {
		return effs // Decode would not have completed it ok
	}
	rc := readCheck{rev: a.Range.Header.Revision, key: []byte(w.op.Key), kvs: a.Range.KVs}
	if w.op.F == "mget" {
		rc.key, rc.end = watchPrefix, kv.Prefix(watchPrefix)
	}
	w.reads = append(w.reads, rc)
	return w.checkReads(effs)
}

// checkReads compares the reads the stream has reached with the replay.
func (w *watchingClient) checkReads(effs []component.Effect) []component.Effect {
	keep := w.reads[:0]
	for _, rc := range w.reads {
		if rc.rev > w.last {
			keep = append(keep, rc)
			continue
		}
		effs = w.noteWrong(effs, w.checkRead(rc))
	}
	w.reads = keep
	return effs
}

func (w *watchingClient) checkRead(rc readCheck) error {
	if !w.watches(rc.key) {
		return nil
	}
	var want []kv.KeyValue
	for _, key := range slices.Sorted(maps.Keys(w.replay)) {
		if in := key == string(rc.key) || rc.end != nil && key >= string(rc.key) && key < string(rc.end); !in {
			continue
		}
		if s := w.stateAt(key, rc.rev); s != nil {
			want = append(want, *s)
		}
	}
	if !slices.EqualFunc(want, rc.kvs, sameKV) {
		return fmt.Errorf("a read at revision %d found %s, but the watch stream replayed to that revision holds %s", rc.rev, kvsText(rc.kvs), kvsText(want))
	}
	return nil
}

// watches reports whether the client's watch covers key (reads of a key it does not
// watch have nothing to compare with).
func (w *watchingClient) watches(key []byte) bool {
	lo, hi := w.watchRange()
	return string(key) >= string(lo) && (len(hi) == 1 && hi[0] == 0 || string(key) < string(hi))
}

func kvsText(kvs []kv.KeyValue) string {
	if len(kvs) == 0 {
		return "nothing"
	}
	var parts []string
	for i := range kvs {
		parts = append(parts, kvText(&kvs[i]))
	}
	return strings.Join(parts, ", ")
}

// noteWrong turns the first failed replay check into an observation.
func (w *watchingClient) noteWrong(effs []component.Effect, err error) []component.Effect {
	if err == nil || w.wrong {
		return effs
	}
	w.wrong = true
	return append(effs, component.Observe{Kind: "watch-wrong", Value: err.Error()})
}

// byRevision yields the events of a response grouped by revision, in order.
func byRevision(evs []kv.Event) func(func(int64, []kv.Event) bool) {
	return func(yield func(int64, []kv.Event) bool) {
		for i := 0; i < len(evs); {
			rev := evs[i].KV.ModRevision
			j := i
			for j < len(evs) && evs[j].KV.ModRevision == rev {
				j++
			}
			if !yield(rev, evs[i:j]) {
				return
			}
			i = j
		}
	}
}

func eventTexts(evs []kv.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = eventText(ev)
	}
	return out
}

func eventText(ev kv.Event) string {
	if ev.Type == kv.EventDelete {
		return fmt.Sprintf("delete %q", ev.KV.Key)
	}
	return fmt.Sprintf("put %q %q", ev.KV.Key, ev.KV.Value)
}

// revisionLine renders the events of one revision as "rev ev, ev, ...", the events
// sorted, so that two lines are equal exactly when they hold the same events.
func revisionLine(rev int64, events []string) string {
	events = slices.Clone(events)
	slices.Sort(events)
	return strconv.FormatInt(rev, 10) + " " + strings.Join(events, ", ")
}

// txnCommitted observes the revision of a txn that completed ok (effs is what the rsm
// client made of the reply): the events a watcher must see at that revision are exactly
// the txn's puts.
func (w *watchingClient) txnCommitted(m rsm.Reply, effs []component.Effect) []component.Effect {
	if w.op.F != "txn" || !completedOK(effs, w.op.ID) {
		return effs
	}
	r, err := kv.DecodeReply(m.Result)
	if err != nil || r.Txn == nil {
		return effs // Decode would not have completed it ok
	}
	pairs, _ := txnPairs(w.op.Value)
	var evs []string
	for _, p := range pairs {
		evs = append(evs, eventText(kv.Event{Type: kv.EventPut, KV: kv.KeyValue{Key: []byte(p[0]), Value: []byte(p[1])}}))
	}
	return append(effs, component.Observe{Kind: "txn", Value: revisionLine(r.Txn.Header.Revision, evs)})
}

// completedOK reports whether effs complete operation id ok.
func completedOK(effs []component.Effect, id uint64) bool {
	return slices.ContainsFunc(effs, func(e component.Effect) bool {
		c, ok := e.(component.Complete)
		return ok && c.OpID == id && c.Outcome == component.OK
	})
}

// checkWatches holds every client's watch stream to etcd's promises: revisions in order
// with no gaps (every revision of this workload writes a "k" key, so a watcher of the
// prefix must see each one) and no duplicates; the same events at each revision for
// every watcher, every time it is delivered (a revision is atomic: a watcher sees all of
// its events or none); and a txn's writes, all of them and nothing else, at the revision
// its response reported; and, from each client's own replay, the completeness checks
// above (PrevKV, versions, reads).
func checkWatches(res sim.Result) error {
	byRev := map[int64]string{}
	var again, txns []sim.Observation
	last := map[component.NodeID]int64{}
	var compacted int64 // the highest compaction sent so far
	for _, o := range res.Observations {
		switch o.Kind {
		case "compact-sent":
			var c int64
			if _, err := fmt.Sscanf(o.Value, "%d", &c); err != nil {
				return fmt.Errorf("malformed compact-sent observation %q", o.Value)
			}
			compacted = max(compacted, c)
			continue
		case "prevkv-missing":
			if rev, err := lineRevision(o.Value); err != nil || rev > compacted {
				return fmt.Errorf("watcher %s: revision %s carries no prevKV, but the stream holds the key before it and no compaction reached it", o.Node, o.Value)
			}
			continue
		case "watch-error":
			return fmt.Errorf("watcher %s: undecodable watch response: %s", o.Node, o.Value)
		case "watch-wrong":
			return fmt.Errorf("watcher %s: %s", o.Node, o.Value)
		case "watch-again":
			again = append(again, o)
			continue
		case "txn":
			txns = append(txns, o)
			continue
		case "watch":
		default:
			continue
		}
		rev, err := lineRevision(o.Value)
		if err != nil {
			return err
		}
		prev, seen := last[o.Node]
		if !seen {
			prev = 1 // the store's first write is revision 2
		}
		if rev != prev+1 {
			return fmt.Errorf("watcher %s: event at revision %d after %d: %s", o.Node, rev, prev, gapWord(rev, prev))
		}
		last[o.Node] = rev
		if other, ok := byRev[rev]; ok && other != o.Value {
			return fmt.Errorf("revision %d seen as [%s] by one watcher and [%s] by %s", rev, other, o.Value, o.Node)
		}
		byRev[rev] = o.Value
	}
	for _, o := range again {
		rev, err := lineRevision(o.Value)
		if err != nil {
			return err
		}
		return fmt.Errorf("revision %d delivered again to watcher %s as [%s], first as [%s]", rev, o.Node, o.Value, byRev[rev])
	}
	return checkTxnRevisions(txns, byRev)
}

// checkTxnRevisions compares each committed txn with what watchers saw at its revision
// (if any watcher got that far).
func checkTxnRevisions(txns []sim.Observation, byRev map[int64]string) error {
	for _, o := range txns {
		rev, err := lineRevision(o.Value)
		if err != nil {
			return err
		}
		if seen, ok := byRev[rev]; ok && seen != o.Value {
			return fmt.Errorf("txn of client %s committed at revision %d as [%s], but watchers saw [%s]", o.Node, rev, o.Value, seen)
		}
	}
	return nil
}

func lineRevision(line string) (int64, error) {
	revText, _, _ := strings.Cut(line, " ")
	rev, err := strconv.ParseInt(revText, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed watch line %q", line)
	}
	return rev, nil
}

func gapWord(rev, prev int64) string {
	if rev <= prev {
		return "out of order or duplicated"
	}
	return fmt.Sprintf("revisions %d..%d skipped", prev+1, rev-1)
}
