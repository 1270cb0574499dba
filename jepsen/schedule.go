package jepsen

import (
	"context"
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
	case name == "kill" || name == "pause":
		return "process"
	case name == "delay" || name == "duplicate" || name == "reorder" || strings.HasPrefix(name, "link"):
		return "link"
	}
	return name
}

// periods is how many faulty periods fit: one starts at interval, 3*interval, ...
func (s *schedule) periods() int {
	n := int((s.total/s.interval + 1) / 2)
	return max(n, 1)
}

// next picks the nemeses of one faulty period.
func (s *schedule) next(periodsLeft int) []Nemesis {
	families := map[string]bool{}
	for _, n := range s.nemeses {
		families[family(n.Name())] = true
	}
	want := min(max((len(s.nemeses)+periodsLeft-1)/max(periodsLeft, 1), 1), len(families))
	if len(s.queue) < want {
		perm := s.rng.Perm(len(s.nemeses))
		for _, i := range perm {
			s.queue = append(s.queue, s.nemeses[i])
		}
	}
	var out []Nemesis
	used := map[string]bool{}
	for i := 0; i < len(s.queue) && len(out) < want; {
		f := family(s.queue[i].Name())
		if used[f] || slices.Contains(out, s.queue[i]) {
			i++
			continue
		}
		used[f] = true
		out = append(out, s.queue[i])
		s.queue = slices.Delete(s.queue, i, i+1)
	}
	return out
}

func (s *schedule) run(ctx context.Context) []FaultWindow {
	var windows []FaultWindow
	left := s.periods()
	for sleepCtx(ctx, s.interval) {
		// After the first pass over the list, one kind at a time.
		ns := s.next(left)
		left = max(left-1, 1)
		if len(windows) >= len(s.nemeses) {
			ns = ns[:1]
		}
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
				continue
			}
			s.log.Info("fault", "nemesis", n.Name(), "what", desc)
			windows = append(windows, w)
			open = append(open, len(windows)-1)
		}
		sleepCtx(ctx, s.interval)
		for _, i := range slices.Backward(open) {
			n := s.byName(windows[i].Nemesis)
			if err := s.stop(n); err != nil {
				windows[i].Error = "stop: " + err.Error()
			}
			windows[i].End = s.now()
		}
	}
	return windows
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
