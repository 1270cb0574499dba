package workload

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/sim"
)

// checkMvcc holds the mvcc workload's run to what no single client can see: the watch
// checks across clients, revisions in real-time order (a request sent after another
// completed sits at or after its revision, strictly after if it wrote), one writer per
// revision, and compaction: a refusal as compacted follows a compaction at or above the
// revision, a cancelled watch names a compaction that was sent, and no read below a
// completed compaction succeeds.
func checkMvcc(res sim.Result) error {
	if err := checkWatches(res); err != nil {
		return err
	}
	var placed []mvccPlaced
	var sent, done []compaction
	for _, o := range res.Observations {
		switch o.Kind {
		case "mvcc-wrong":
			return fmt.Errorf("client %s: %s", o.Node, o.Value)
		case "mvcc-placed":
			var p mvccPlaced
			if _, err := fmt.Sscanf(o.Value, "%d %s %d %d", &p.rev, &p.kind, &p.invoked, &p.completed); err != nil {
				return fmt.Errorf("malformed mvcc-placed observation %q", o.Value)
			}
			p.node = int(o.Node)
			placed = append(placed, p)
		case "compact-sent", "compact-done":
			var c compaction
			if _, err := fmt.Sscanf(o.Value, "%d", &c.rev); err != nil {
				return fmt.Errorf("malformed %s observation %q", o.Kind, o.Value)
			}
			c.at, c.node = o.At, int(o.Node)
			if o.Kind == "compact-sent" {
				sent = append(sent, c)
			} else {
				done = append(done, c)
			}
		}
	}
	return errors.Join(checkPlaced(placed), checkCompaction(res.Observations, sent, done), checkLeasesGone(res), checkNotLeader(res))
}

// checkNotLeader: keep-alives go to the leader, which renews after its read index; it
// answers ErrNotLeader only if it stepped down meanwhile. So a keep-alive refused so
// needs some server to have stepped down while it was out.
func checkNotLeader(res sim.Result) error {
	var downs []time.Duration
	for _, o := range res.Observations {
		if r, ok := o.Notice.(component.RoleChanged); ok && !r.Leader {
			downs = append(downs, o.At)
		}
	}
	for _, o := range res.Observations {
		if o.Kind != "not-leader" {
			continue
		}
		var from, to time.Duration
		if _, err := fmt.Sscanf(o.Value, "%d %d", &from, &to); err != nil {
			return fmt.Errorf("malformed not-leader observation %q", o.Value)
		}
		if !slices.ContainsFunc(downs, func(t time.Duration) bool { return t >= from && t <= to }) {
			return fmt.Errorf("client %s: a keep-alive sent at %v was refused with %q at %v, but no server stepped down meanwhile", o.Node, from, kv.ErrNotLeader, to)
		}
	}
	return nil
}

// checkLeasesGone judges the leases clients found gone while a grant or keep-alive's
// promise still held, with checkLeasePromise's slack for the servers' clocks. A response
// may have several explanations (which of two leases was gone); one that holds will do.
func checkLeasesGone(res sim.Result) error {
	for _, o := range res.Observations {
		if o.Kind != "lease-gone" {
			continue
		}
		atText, altsText, ok := strings.Cut(o.Value, "; ")
		at, err := strconv.ParseInt(atText, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("malformed lease-gone observation %q", o.Value)
		}
		var why []string
		held := false
		for _, alt := range strings.Split(altsText, " | ") {
			early, err := earlyLeases(res, alt, time.Duration(at))
			if err != nil {
				return fmt.Errorf("malformed lease-gone observation %q: %v", o.Value, err)
			}
			if len(early) == 0 {
				held = true
				break
			}
			why = append(why, early...)
		}
		if !held {
			return fmt.Errorf("client %s: a response at %v needs a lease gone early: %s", o.Node, time.Duration(at), strings.Join(why, "; or "))
		}
	}
	return nil
}

// earlyLeases lists the leases of one explanation ("id ttl sent, ...") that would have
// died before their promise, slack included.
func earlyLeases(res sim.Result, alt string, at time.Duration) ([]string, error) {
	var out []string
	for _, l := range strings.Split(alt, ", ") {
		var id, ttlSec int64
		var sent time.Duration
		if _, err := fmt.Sscanf(l, "%d %d %d", &id, &ttlSec, &sent); err != nil {
			return nil, err
		}
		ttl := time.Duration(ttlSec) * time.Second
		slack := leaseSlack(res, ttl, sent, at)
		if at < sent+ttl-slack {
			out = append(out, fmt.Sprintf("lease %d, promised %ds by a grant or keep-alive sent at %v (slack %v), %v early", id, ttlSec, sent, slack, sent+ttl-slack-at))
		}
	}
	return out, nil
}

type mvccPlaced struct {
	rev                int64
	kind               string // "write": it wrote rev; "read": it ran on the state at rev
	invoked, completed time.Duration
	node               int
}

type compaction struct {
	rev  int64
	at   time.Duration
	node int
}

func checkPlaced(ps []mvccPlaced) error {
	writers := map[int64]mvccPlaced{}
	for _, p := range ps {
		if p.kind != "write" {
			continue
		}
		if o, ok := writers[p.rev]; ok {
			return fmt.Errorf("revision %d written by two requests: of client %d (sent at %v) and of client %d (sent at %v)", p.rev, o.node, o.invoked, p.node, p.invoked)
		}
		writers[p.rev] = p
	}
	byDone := slices.Clone(ps)
	slices.SortStableFunc(byDone, func(a, b mvccPlaced) int { return int(a.completed - b.completed) })
	// best[i] is the highest revision among the first i+1 completions, and which.
	best := make([]int, len(byDone))
	for i := range byDone {
		best[i] = i
		if i > 0 && byDone[best[i-1]].rev > byDone[i].rev {
			best[i] = best[i-1]
		}
	}
	for _, p := range ps {
		n, _ := slices.BinarySearchFunc(byDone, p.invoked, func(q mvccPlaced, t time.Duration) int { return int(q.completed - t) })
		if n == 0 {
			continue
		}
		q := byDone[best[n-1]]
		if p.rev < q.rev || p.rev == q.rev && p.kind == "write" {
			return fmt.Errorf("a request of client %d sent at %v sits at revision %d (%s), but one of client %d that completed before it, at %v, was at revision %d (%s)",
				p.node, p.invoked, p.rev, p.kind, q.node, q.completed, q.rev, q.kind)
		}
	}
	return nil
}

func checkCompaction(obs []sim.Observation, sent, done []compaction) error {
	sentBefore := func(at time.Duration, ok func(c compaction) bool) bool {
		return slices.ContainsFunc(sent, func(c compaction) bool { return c.at <= at && ok(c) })
	}
	for _, o := range obs {
		var a, b int64
		switch o.Kind {
		case "compacted-read", "compacted-compact", "watch-lost", "read-at", "compact-named":
			if _, err := fmt.Sscanf(o.Value, "%d %d", &a, &b); err != nil {
				return fmt.Errorf("malformed %s observation %q", o.Kind, o.Value)
			}
		default:
			continue
		}
		switch o.Kind {
		case "compacted-read":
			if !sentBefore(o.At, func(c compaction) bool { return c.rev > a }) {
				return fmt.Errorf("client %s: a read at revision %d was refused as compacted, but no compaction above it was sent", o.Node, a)
			}
		case "compacted-compact":
			// Not its own compaction: a resent one is answered from the session table.
			invoked := time.Duration(b)
			if !sentBefore(o.At, func(c compaction) bool { return c.rev >= a && (int(o.Node) != c.node || c.at < invoked) }) {
				return fmt.Errorf("client %s: a compaction to %d was refused as compacted, but no other compaction at or above it was sent", o.Node, a)
			}
		case "watch-lost":
			if !sentBefore(o.At, func(c compaction) bool { return c.rev == a }) {
				return fmt.Errorf("client %s: its watch was cancelled as compacted at %d, but no compaction to %d was sent", o.Node, a, a)
			}
		case "compact-named":
			if !sentBefore(o.At, func(c compaction) bool { return c.rev == a }) {
				return fmt.Errorf("client %s: a hash names compaction revision %d, but no compaction to %d was sent", o.Node, a, a)
			}
		case "read-at":
			invoked := time.Duration(b)
			if i := slices.IndexFunc(done, func(c compaction) bool { return c.at < invoked && c.rev > a }); i >= 0 {
				return fmt.Errorf("client %s: a read at revision %d sent at %v succeeded after a compaction to %d had completed (at %v)", o.Node, a, invoked, done[i].rev, done[i].at)
			}
		}
	}
	return nil
}
