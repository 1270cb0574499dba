package jepsen

import (
	"context"
	"errors"
	"log/slog"
	"math/rand"
	"slices"
	"strings"
	"time"
)

// FaultWindow is one fault the schedule applied: from Start to End (nanoseconds on the
// history's clock), by the named nemesis. Error is set when Start failed (the window is
// then empty) or Stop failed (the fault may have outlived End).
type FaultWindow struct {
	Nemesis     string `json:"nemesis"`
	Description string `json:"description"`
	Start       int64  `json:"start_ns"`
	End         int64  `json:"end_ns"`
	Error       string `json:"error,omitempty"`
}

// schedule alternates healthy and faulty periods of interval each, starting healthy.
// Each faulty period starts nemeses taken in turn from a seeded shuffle of the list (so
// every kind is applied before any repeats) and stops them one interval later. When
// there are more kinds than faulty periods in the run, a period combines several, at
// most one per family (faults that share machinery, e.g. the partition chain, never
// overlap). When ctx ends the faults in force are stopped (healed) under a fresh context
// before run returns.
type schedule struct {
	nemeses  []Nemesis
	cluster  Cluster
	interval time.Duration
	total    time.Duration // the faulty phase's length
	rng      *rand.Rand
	now      func() int64
	log      *slog.Logger

	queue []Nemesis
}

// family groups nemeses that must not be in force together.
func family(name string) string {
	switch {
	case strings.HasPrefix(name, "partition"):
		return "partition"
	case name == "kill" || name == "pause" || name == "member":
		return "process"
	case name == "delay" || name == "duplicate" || name == "reorder" || strings.HasPrefix(name, "link"):
		return "link"
	}
	return name
}

// periods is how many faulty periods fit: one starts at interval, 3*interval, ...,
// each before the end of the faulty phase.
func (s *schedule) periods() int {
	if s.total <= s.interval {
		return 1
	}
	return int((s.total-s.interval-1)/(2*s.interval)) + 1
}

// next picks the nemeses of one faulty period: enough to go through the queue in the
// periods left, one per family, from the families with the most kinds still queued
// first (so a big family, the partitions, is spread over the periods).
func (s *schedule) next(periodsLeft int) []Nemesis {
	families := map[string]bool{}
	for _, n := range s.nemeses {
		families[family(n.Name())] = true
	}
	if len(s.queue) == 0 {
		for _, i := range s.rng.Perm(len(s.nemeses)) {
			s.queue = append(s.queue, s.nemeses[i])
		}
	}
	want := min(max((len(s.queue)+periodsLeft-1)/max(periodsLeft, 1), 1), len(families))
	queued := map[string]int{}
	var order []string // families in order of first appearance in the queue
	for _, n := range s.queue {
		f := family(n.Name())
		if queued[f] == 0 {
			order = append(order, f)
		}
		queued[f]++
	}
	slices.SortStableFunc(order, func(a, b string) int { return queued[b] - queued[a] })
	var out []Nemesis
	for _, f := range order[:min(want, len(order))] {
		i := slices.IndexFunc(s.queue, func(n Nemesis) bool { return family(n.Name()) == f })
		out = append(out, s.queue[i])
		s.queue = slices.Delete(s.queue, i, i+1)
	}
	// Kill and pause go last: a fault that talks to a node (clock, disk, fsync) must
	// reach it before it goes down.
	slices.SortStableFunc(out, func(a, b Nemesis) int {
		return cmpBool(family(a.Name()) == "process", family(b.Name()) == "process")
	})
	return out
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (s *schedule) run(ctx context.Context) []FaultWindow {
	var windows []FaultWindow
	left := s.periods()
	for sleepCtx(ctx, s.interval) {
		ns := s.next(left)
		left = max(left-1, 1)
		var open []int // indexes into windows of the faults in force
		for _, n := range ns {
			w := FaultWindow{Nemesis: n.Name(), Start: s.now()}
			desc, err := n.Start(ctx, s.cluster, s.rng)
			w.Description = desc
			if err != nil {
				w.End, w.Error = s.now(), "start: "+err.Error()
				s.log.Warn("nemesis start failed", "nemesis", n.Name(), "err", err)
				s.stop(n) // a failed start may have applied part of the fault
				windows = append(windows, w)
				if !errors.Is(err, ErrUnsupported) {
					s.queue = append([]Nemesis{n}, s.queue...) // another chance next period
				}
				continue
			}
			s.log.Info("fault", "nemesis", n.Name(), "what", desc)
			windows = append(windows, w)
			open = append(open, len(windows)-1)
		}
		sleepCtx(ctx, s.interval)
		for _, i := range healOrder(windows, open) {
			n := s.byName(windows[i].Nemesis)
			if err := s.stop(n); err != nil {
				windows[i].Error = "stop: " + err.Error()
			}
			windows[i].End = s.now()
		}
	}
	return windows
}

// healOrder is the order in which the faults in force (open, indexes into windows) are
// stopped: the reverse of their start, except that the member nemesis heals last. Adding
// a member back needs a quorum that the other faults (a partition, a halted node) may be
// denying until they heal.
func healOrder(windows []FaultWindow, open []int) []int {
	out := slices.Clone(open)
	slices.Reverse(out)
	slices.SortStableFunc(out, func(a, b int) int {
		return cmpBool(windows[a].Nemesis == "member", windows[b].Nemesis == "member")
	})
	return out
}

func (s *schedule) byName(name string) Nemesis {
	for _, n := range s.nemeses {
		if n.Name() == name {
			return n
		}
	}
	panic("jepsen: schedule: a window names a nemesis not in the schedule: " + name)
}

// stop heals n, trying twice: healing must not depend on the run's context.
func (s *schedule) stop(n Nemesis) error {
	var err error
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = n.Stop(ctx, s.cluster)
		cancel()
		if err == nil {
			s.log.Info("healed", "nemesis", n.Name())
			return nil
		}
		s.log.Warn("nemesis stop failed", "nemesis", n.Name(), "err", err)
	}
	return err
}
