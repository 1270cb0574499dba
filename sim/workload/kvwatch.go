package workload

import (
	"fmt"
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
	last     int64            // last revision released; 1 (the empty store) at first
	pending  map[int64]string // revisions received out of order, as revisionLine
	released map[int64]string // every revision released, as revisionLine
	heard    bool             // progress since the timer was set
	op       component.Op     // the operation in flight
}

func newWatchingClient(id component.NodeID, servers []component.NodeID, r *rand.Rand, rewind bool) *watchingClient {
	return &watchingClient{
		Client: rsm.NewClient(id, servers, kvCodec{}, 150*time.Millisecond),
		id:     id, servers: servers, r: r, rewind: rewind, next: r.IntN(len(servers)), last: 1,
		pending: map[int64]string{}, released: map[int64]string{},
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
			return w.txnCommitted(m, w.Client.Handle(now, in))
		case rsm.Answer:
			return w.txnCommitted(rsm.Reply{Seq: m.ID, Result: m.Result}, w.Client.Handle(now, in))
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
	case !heard:
		w.next = (w.next + 1) % len(w.servers)
		return w.subscribe(w.last + 1)
	case w.rewind && w.last >= 2 && w.r.IntN(rewindOneIn) == 0:
		w.next = (w.next + 1) % len(w.servers)
		return w.subscribe(2 + w.r.Int64N(w.last-1))
	}
	return []component.Effect{component.SetTimer{ID: timerWatch, After: watchQuiet}}
}

func (w *watchingClient) subscribe(from int64) []component.Effect {
	key, end := watchPrefix, kv.Prefix(watchPrefix)
	if w.key != nil {
		key, end = w.key, w.end
	}
	wr := kv.WatchRequest{Key: key, RangeEnd: end, StartRevision: from}
	req := rsm.Request{Client: uint64(w.id), Stream: true, Payload: kv.EncodeWatchRequest(wr)}
	return []component.Effect{
		component.Send{To: w.servers[w.next], Msg: req},
		component.SetTimer{ID: timerWatch, After: watchQuiet},
	}
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
	var effs []component.Effect
	for rev, evs := range byRevision(resp.Events) {
		line := revisionLine(rev, evs)
		switch {
		case rev > w.last:
			w.pending[rev] = line
		case line != w.released[rev]:
			effs = append(effs, component.Observe{Kind: "watch-again", Value: line})
		}
	}
	for {
		line, ok := w.pending[w.last+1]
		if !ok {
			break
		}
		delete(w.pending, w.last+1)
		w.last++
		w.released[w.last] = line
		w.heard = true
		effs = append(effs, component.Observe{Kind: "watch", Value: line})
	}
	return effs
}

// byRevision yields the events of a response grouped by revision, in order.
func byRevision(evs []kv.Event) func(func(int64, []string) bool) {
	return func(yield func(int64, []string) bool) {
		for i := 0; i < len(evs); {
			rev := evs[i].KV.ModRevision
			var texts []string
			for ; i < len(evs) && evs[i].KV.ModRevision == rev; i++ {
				texts = append(texts, eventText(evs[i]))
			}
			if !yield(rev, texts) {
				return
			}
		}
	}
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
	if w.op.F != "txn" || !slices.ContainsFunc(effs, func(e component.Effect) bool {
		c, ok := e.(component.Complete)
		return ok && c.OpID == w.op.ID && c.Outcome == component.OK
	}) {
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

// checkWatches holds every client's watch stream to etcd's promises: revisions in order
// with no gaps (every revision of this workload writes a "k" key, so a watcher of the
// prefix must see each one) and no duplicates; the same events at each revision for
// every watcher, every time it is delivered (a revision is atomic: a watcher sees all of
// its events or none); and a txn's writes, all of them and nothing else, at the revision
// its response reported.
func checkWatches(res sim.Result) error {
	byRev := map[int64]string{}
	var again, txns []sim.Observation
	last := map[component.NodeID]int64{}
	for _, o := range res.Observations {
		switch o.Kind {
		case "watch-error":
			return fmt.Errorf("watcher %s: undecodable watch response: %s", o.Node, o.Value)
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
