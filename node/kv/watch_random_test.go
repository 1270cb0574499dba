package kv

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/orrery/orrery/node/bugs"
	"github.com/stretchr/testify/require"
)

// watchedWant returns the events of rev that a watcher with req wants, from the reference
// history, without PrevKV.
func watchedWant(ref map[int64][]Event, req WatchRequest, rev int64) []Event {
	sp := mkSpan(req.Key, req.RangeEnd)
	var out []Event
	for _, ev := range ref[rev] {
		if sp.contains(ev.KV.Key) && !(ev.Type == EventPut && req.NoPut) && !(ev.Type == EventDelete && req.NoDelete) {
			out = append(out, ev)
		}
	}
	return out
}

// checkWatchStream checks one watcher's stream against the reference history ref (the
// events of every revision, as Apply returned them): events in revision order, none
// missing, none twice, every revision whole within one response, progress notifications
// only once caught up, and nothing after a cancellation. from is the first revision the
// watcher asked for; upTo the store's revision when the stream was last drained.
func checkWatchStream(ref map[int64][]Event, req WatchRequest, from, upTo int64, resps []WatchResponse) error {
	next := from                         // first revision not yet delivered
	deliver := func(until int64) error { // revisions next..until without events for us
		for ; next <= until; next++ {
			if want := watchedWant(ref, req, next); len(want) > 0 {
				return fmt.Errorf("revision %d: %d events missing", next, len(want))
			}
		}
		return nil
	}
	for i, r := range resps {
		if r.CompactRevision != 0 {
			if i != len(resps)-1 || !r.Canceled {
				return fmt.Errorf("response %d: compacted but not the last or not cancelled", i)
			}
			return nil
		}
		if len(r.Events) == 0 { // progress: everything up to the header revision delivered
			if err := deliver(r.Header.Revision); err != nil {
				return fmt.Errorf("progress at %d: %w", r.Header.Revision, err)
			}
			continue
		}
		for j := 0; j < len(r.Events); {
			rev := r.Events[j].KV.ModRevision
			if rev < next {
				return fmt.Errorf("response %d: revision %d again or out of order (next %d)", i, rev, next)
			}
			if err := deliver(rev - 1); err != nil {
				return err
			}
			n := j
			for n < len(r.Events) && r.Events[n].KV.ModRevision == rev {
				n++
			}
			got := slices.Clone(r.Events[j:n])
			for k := range got {
				got[k].PrevKV = nil
			}
			if want := watchedWant(ref, req, rev); !slices.EqualFunc(got, want, eventEqual) {
				return fmt.Errorf("response %d: revision %d: got %d events, want %d (whole and in order)", i, rev, len(got), len(want))
			}
			next, j = rev+1, n
		}
	}
	return deliver(upTo)
}

func eventEqual(a, b Event) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

type watchRun struct {
	req   WatchRequest
	from  int64
	resps []WatchResponse
}

// runRandomWatches applies random commands while random watchers come and go, drains the
// hub at random points, and checks every stream. It returns the first violation.
func runRandomWatches(t *testing.T, seed uint64, cfg Config) error {
	g := newGen(seed)
	s := New(cfg)
	h := s.Watches()
	ref := map[int64][]Event{}
	runs := map[int64]*watchRun{}
	drain := func() {
		for _, r := range h.Take() {
			runs[r.WatchID].resps = append(runs[r.WatchID].resps, r)
		}
	}
	for range 300 {
		if g.chance(0.15) {
			k := g.key()
			req := WatchRequest{Key: b(k), RangeEnd: g.rangeEnd(k), StartRevision: g.r.Int64N(s.Rev() + 3),
				NoPut: g.chance(0.1), NoDelete: g.chance(0.1), PrevKV: g.chance(0.3)}
			if id, err := h.Watch(req); err == nil {
				from := req.StartRevision
				if from <= 0 {
					from = s.Rev() + 1
				}
				runs[id] = &watchRun{req: req, from: from}
			}
		}
		res := s.Apply(g.command(s.Rev(), s.CompactRevision()))
		if len(res.Events) > 0 && !res.Duplicate {
			ref[res.Revision] = res.Events
		}
		if g.chance(0.05) {
			for id := range h.watchers {
				_ = h.RequestProgress(id)
			}
		}
		if g.chance(0.3) {
			drain()
		}
	}
	drain()
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		r := runs[id]
		if err := checkWatchStream(ref, r.req, r.from, s.Rev(), r.resps); err != nil {
			return fmt.Errorf("seed %d watcher %d (%+v): %w", seed, id, r.req, err)
		}
	}
	return nil
}

func TestWatchRandomStreams(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		require.NoError(t, runRandomWatches(t, seed, Config{}))
	}
}

// TestWatchSkipBugCaught shows the watch checker catches the planted kv.watch-skip bug,
// while the store's reads stay correct (TestEquivalence passes with it on).
func TestWatchSkipBugCaught(t *testing.T) {
	cfg := Config{Bugs: bugs.With(BugWatchSkip)}
	require.NoError(t, cfg.Bugs.Validate(Bugs))
	caught := 0
	for seed := uint64(1); seed <= 30; seed++ {
		if runRandomWatches(t, seed, cfg) != nil {
			caught++
		}
	}
	require.Positive(t, caught, "the checker never saw the planted bug")
	for seed := uint64(1); seed <= 5; seed++ {
		runEquivalence(t, seed, 400, cfg) // plain KV checks do not notice it
	}
	t.Logf("kv.watch-skip caught in %d of 30 seeds", caught)
}
