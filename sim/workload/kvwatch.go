package workload

import (
	"fmt"
	"math/rand/v2"
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
// broken stream. Every event a client releases is observed, and checkWatches holds them
// to etcd's promises.

var watchPrefix = []byte("k")

const (
	watchQuiet = 300 * time.Millisecond
	timerWatch = 100 // rsm.Client uses 1
)

// watchingClient is an rsm.Client that also keeps a watch open.
type watchingClient struct {
	*rsm.Client
	id      component.NodeID
	servers []component.NodeID
	next    int
	last    int64            // last revision released
	pending map[int64]string // received out of order, by revision
	heard   bool             // progress since the timer was set
}

func newWatchingClient(id component.NodeID, servers []component.NodeID, r *rand.Rand) *watchingClient {
	return &watchingClient{
		Client: rsm.NewClient(id, servers, kvCodec{}, 150*time.Millisecond),
		id:     id, servers: servers, next: r.IntN(len(servers)),
	}
}

func (w *watchingClient) Handle(now time.Duration, in component.Input) []component.Effect {
	switch in := in.(type) {
	case component.Start:
		return w.subscribe()
	case component.TimerFired:
		if in.ID == timerWatch {
			if w.heard {
				w.heard = false
				return []component.Effect{component.SetTimer{ID: timerWatch, After: watchQuiet}}
			}
			w.next = (w.next + 1) % len(w.servers)
			return w.subscribe()
		}
	case component.Receive:
		if p, ok := in.Msg.(rsm.Pushed); ok {
			return w.events(p.Data)
		}
	}
	return w.Client.Handle(now, in)
}

func (w *watchingClient) subscribe() []component.Effect {
	wr := kv.WatchRequest{Key: watchPrefix, RangeEnd: kv.Prefix(watchPrefix), StartRevision: w.last + 1}
	req := rsm.Request{Client: uint64(w.id), Stream: true, Payload: kv.EncodeWatchRequest(wr)}
	return []component.Effect{
		component.Send{To: w.servers[w.next], Msg: req},
		component.SetTimer{ID: timerWatch, After: watchQuiet},
	}
}

// events takes a push. The simulated network, unlike a TCP stream, may reorder and drop
// messages, so events are released in revision order: every revision of this workload
// writes a "k" key, so the next one to release is always last+1, and anything later waits
// in pending. Anything at or below last is a duplicate (a reopened watch racing the old
// one) and is dropped, as etcd's client does. A gap that outlives watchQuiet makes the
// client reopen the watch from last+1.
func (w *watchingClient) events(data []byte) []component.Effect {
	if w.pending == nil {
		w.pending = map[int64]string{}
	}
	resp, err := kv.DecodeWatchResponse(data)
	if err != nil {
		return []component.Effect{component.Observe{Kind: "watch-error", Value: err.Error()}}
	}
	for _, ev := range resp.Events {
		if r := ev.KV.ModRevision; r > w.last {
			w.pending[r] = fmt.Sprintf("%d %d %s %q", r, ev.Type, ev.KV.Key, ev.KV.Value)
		}
	}
	var effs []component.Effect
	for {
		line, ok := w.pending[w.last+1]
		if !ok {
			break
		}
		delete(w.pending, w.last+1)
		w.last++
		w.heard = true
		effs = append(effs, component.Observe{Kind: "watch", Value: line})
	}
	return effs
}

// checkWatches holds every client's watch stream to etcd's promises: revisions in order
// with no gaps (every revision of this workload writes a "k" key, so a watcher of the
// prefix must see each one) and no duplicates, and the same event at the same revision
// for every watcher.
func checkWatches(res sim.Result) error {
	byRev := map[int64]string{}
	last := map[component.NodeID]int64{}
	for _, o := range res.Observations {
		if o.Kind == "watch-error" {
			return fmt.Errorf("watcher %s: undecodable watch response: %s", o.Node, o.Value)
		}
		if o.Kind != "watch" {
			continue
		}
		revText, _, _ := strings.Cut(o.Value, " ")
		rev, err := strconv.ParseInt(revText, 10, 64)
		if err != nil {
			return fmt.Errorf("malformed watch event %q", o.Value)
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
	return nil
}

func gapWord(rev, prev int64) string {
	if rev <= prev {
		return "out of order or duplicated"
	}
	return fmt.Sprintf("revisions %d..%d skipped", prev+1, rev-1)
}
