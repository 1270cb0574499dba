package workload

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orrery/orrery/sim"
)

// electionMargin is one election timeout of the lock workload's servers (10 ticks of
// 10ms): the lease check's margin for a leader's tick granularity and hand-over.
const electionMargin = 100 * time.Millisecond

// checkLock holds a lock run to what the mutex and the leases promise, from the facts
// the clients and servers observed:
//   - fencing: the fenced writes that succeeded carry non-decreasing tokens in revision
//     order (a holder whose lease expired cannot write after its successor took over);
//   - exclusion: a holder whose release found its key still in place (so its lease did
//     not expire while it held the lock) started releasing before any later holder
//     acquired;
//   - leases: a lease whose keep-alive was sent at s and answered with TTL is not
//     expired before s+TTL, less what the clocks may take away (drift, forward jumps).
func checkLock(res sim.Result) error {
	f := readLockFacts(res)
	if f.err != nil {
		return f.err
	}
	for _, check := range []func(res sim.Result, f *lockFacts) error{checkFencing, checkExclusion, checkLeasePromise} {
		if err := check(res, f); err != nil {
			return err
		}
	}
	return nil
}

type fencedWrite struct {
	token, rev int64
	at         time.Duration
	node       sim.NodeID
}

type keepAlive struct {
	lease int64
	sent  time.Duration
	ttl   int64
}

type lockFacts struct {
	fenced    []fencedWrite
	acquired  map[int64]time.Duration // token -> when its holder learned it held the lock
	releasing map[int64]time.Duration // token -> when its holder sent the release
	released  map[int64]bool          // token -> the release found the key in place
	keepAlive []keepAlive
	expired   map[int64]time.Duration // lease -> first "lease-expired" on any member
	err       error
}

func readLockFacts(res sim.Result) *lockFacts {
	f := &lockFacts{acquired: map[int64]time.Duration{}, releasing: map[int64]time.Duration{},
		released: map[int64]bool{}, expired: map[int64]time.Duration{}}
	for _, o := range res.Observations {
		var token, rev, lease, sent, ttl int64
		var err error
		switch o.Kind {
		case "fenced":
			_, err = fmt.Sscanf(o.Value, "token=%d rev=%d", &token, &rev)
			f.fenced = append(f.fenced, fencedWrite{token: token, rev: rev, at: o.At, node: o.Node})
		case "acquired":
			_, err = fmt.Sscanf(o.Value, "token=%d lease=%d", &token, &lease)
			f.acquired[token] = o.At
		case "releasing":
			_, err = fmt.Sscanf(o.Value, "token=%d", &token)
			if _, ok := f.releasing[token]; !ok {
				f.releasing[token] = o.At
			}
		case "released":
			_, err = fmt.Sscanf(o.Value, "token=%d", &token)
			f.released[token] = true
		case "keepalive":
			_, err = fmt.Sscanf(o.Value, "%d sent=%d ttl=%d", &lease, &sent, &ttl)
			f.keepAlive = append(f.keepAlive, keepAlive{lease: lease, sent: time.Duration(sent), ttl: ttl})
		case "lease-expired":
			_, err = fmt.Sscanf(o.Value, "%d rev=%d", &lease, &rev)
			if _, ok := f.expired[lease]; !ok {
				f.expired[lease] = o.At
			}
		default:
			continue
		}
		if err != nil && f.err == nil {
			f.err = fmt.Errorf("malformed %s observation %q of %s: %v", o.Kind, o.Value, o.Node, err)
		}
	}
	return f
}

func checkFencing(_ sim.Result, f *lockFacts) error {
	ws := slices.Clone(f.fenced)
	slices.SortFunc(ws, func(a, b fencedWrite) int { return int(a.rev - b.rev) })
	for i := 1; i < len(ws); i++ {
		if a, b := ws[i-1], ws[i]; b.token < a.token {
			return fmt.Errorf("fencing: write by %s at revision %d has token %d, after a write by %s at revision %d with token %d",
				b.node, b.rev, b.token, a.node, a.rev, a.token)
		}
	}
	return nil
}

func checkExclusion(_ sim.Result, f *lockFacts) error {
	tokens := sortedKeys(f.acquired)
	for i, a := range tokens {
		if !f.released[a] {
			continue // lost or never released: its lease may have expired meanwhile
		}
		for _, b := range tokens[i+1:] {
			if rel := f.releasing[a]; rel > f.acquired[b] {
				return fmt.Errorf("exclusion: token %d was acquired at %v while the holder of token %d still held the lock (it released it from %v and found its key in place)",
					b, f.acquired[b], a, rel)
			}
		}
	}
	return nil
}

// checkLeasePromise: the slack is the drift the leader's clock may have over the TTL
// (twice, to be safe), every forward clock jump of any server between the keep-alive
// and the expiry, and one election timeout.
func checkLeasePromise(res sim.Result, f *lockFacts) error {
	for _, k := range f.keepAlive {
		at, ok := f.expired[k.lease]
		if !ok {
			continue
		}
		ttl := time.Duration(k.ttl) * time.Second
		slack := leaseSlack(res, ttl, k.sent, at)
		if at < k.sent+ttl-slack {
			return fmt.Errorf("lease %d expired at %v, but a keep-alive sent at %v promised %ds (slack %v): it died %v early",
				k.lease, at, k.sent, k.ttl, slack, k.sent+ttl-slack-at)
		}
	}
	return nil
}

// leaseSlack is how much earlier than its promise (sent + ttl) a lease may legally expire
// by to: the drift the leader's clock may have over the TTL (twice, to be safe), every
// forward clock jump of any server in between, and one election timeout.
func leaseSlack(res sim.Result, ttl, sent, to time.Duration) time.Duration {
	return time.Duration(2*res.Profile.ClockDriftMax*float64(ttl)) + clockJumps(res, sent, to) + electionMargin
}

// clockJumps sums the forward clock jumps of every server in [from, to].
func clockJumps(res sim.Result, from, to time.Duration) time.Duration {
	var sum time.Duration
	for _, w := range res.Faults {
		if w.Kind != sim.FaultClock || w.Start < from || w.Start > to {
			continue
		}
		_, jump, ok := strings.Cut(w.Detail, " clock +")
		if !ok {
			continue
		}
		if d, err := time.ParseDuration(jump); err == nil {
			sum += d
		}
	}
	return sum
}

func sortedKeys(m map[int64]time.Duration) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
