package jepsen

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/orrery/orrery/checker/history"
)

// Summary is a run's outcome: summary.json, and what `orrery jepsen run` prints.
type Summary struct {
	Valid         Validity          `json:"valid"`
	Verdict       string            `json:"verdict"` // one line: what the checker found
	Workload      string            `json:"workload"`
	Nemesis       []string          `json:"nemesis"`
	Nodes         int               `json:"nodes"`
	Seed          int64             `json:"seed"`
	Time          string            `json:"time"`
	Rate          float64           `json:"rate"`
	Concurrency   int               `json:"concurrency"`
	FaultInterval string            `json:"fault_interval"`
	Bugs          []string          `json:"bugs,omitempty"`
	EtcdBin       string            `json:"etcd_bin,omitempty"`
	Counts        map[string]Counts `json:"counts"` // by operation name
	Faults        []FaultSummary    `json:"faults"`
	// SkippedNemeses could not attack this cluster (e.g. clock skew against etcd).
	SkippedNemeses []string       `json:"skipped_nemeses,omitempty"`
	Checker        map[string]any `json:"checker"`
	Timings        Timings        `json:"timings"`
	Errors         []string       `json:"errors,omitempty"` // trouble that did not stop the run
	Out            string         `json:"out"`
	Files          []string       `json:"files"`
}

// Counts are the outcomes of one kind of operation; an operation never completed
// counts as info.
type Counts struct {
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
}

// FaultSummary is what one nemesis did during the run.
type FaultSummary struct {
	Name    string         `json:"name"`
	Count   int            `json:"count"` // windows in which it was in force
	Windows []WindowReport `json:"windows"`
}

// WindowReport is a fault window in seconds since the history began.
type WindowReport struct {
	Start       float64 `json:"start"`
	End         float64 `json:"end"`
	Description string  `json:"description"`
	Error       string  `json:"error,omitempty"`
}

// Timings are the phases' durations in seconds.
type Timings struct {
	Setup    float64 `json:"setup"`
	Run      float64 `json:"run"`
	Recovery float64 `json:"recovery"`
	Final    float64 `json:"final"`
	Check    float64 `json:"check"`
	Total    float64 `json:"total"`
}

func newSummary(o RunOptions) Summary {
	return Summary{
		Valid: Unknown, Workload: o.Workload, Nemesis: o.Nemesis, Nodes: o.Nodes, Seed: o.Seed,
		Time: o.Time.String(), Rate: o.Rate, Concurrency: o.Concurrency, FaultInterval: o.FaultInterval.String(),
		Bugs: o.Bugs, EtcdBin: o.EtcdBin, Out: o.Out,
	}
}

// fill records the history's counts, the faults and the checker's verdict. names are
// the nemeses the schedule could pick, listed even when never applied.
func (s *Summary) fill(events []history.Event, windows []FaultWindow, names []string, rep verdictReport) {
	s.Valid, s.Verdict, s.Checker = rep.valid, rep.summary, rep.details
	if s.Checker == nil {
		s.Checker = map[string]any{}
	}
	s.Counts = countOps(events)
	s.Faults = summarizeFaults(windows, names)
}

func countOps(events []history.Event) map[string]Counts {
	out := map[string]Counts{}
	open := map[int]string{}
	for _, e := range events {
		if e.Type == history.Invoke {
			open[e.Process] = e.F
			continue
		}
		delete(open, e.Process)
		c := out[e.F]
		switch e.Type {
		case history.OK:
			c.OK++
		case history.Fail:
			c.Fail++
		default:
			c.Info++
		}
		out[e.F] = c
	}
	for _, f := range open {
		c := out[f]
		c.Info++
		out[f] = c
	}
	return out
}

func summarizeFaults(windows []FaultWindow, names []string) []FaultSummary {
	by := map[string]*FaultSummary{}
	for _, n := range names {
		by[n] = &FaultSummary{Name: n, Windows: []WindowReport{}}
	}
	for _, w := range windows {
		f := by[w.Nemesis]
		if f == nil {
			f = &FaultSummary{Name: w.Nemesis}
			by[w.Nemesis] = f
		}
		if !strings.HasPrefix(w.Error, "start:") {
			f.Count++
		}
		f.Windows = append(f.Windows, WindowReport{Start: nsSecs(w.Start), End: nsSecs(w.End), Description: w.Description, Error: w.Error})
	}
	out := make([]FaultSummary, 0, len(by))
	for _, k := range slices.Sorted(maps.Keys(by)) {
		out = append(out, *by[k])
	}
	return out
}

func nsSecs(ns int64) float64 { return float64(ns/1e6) / 1e3 }

// ReadSummary decodes a summary.json.
func ReadSummary(b []byte) (Summary, error) {
	var s Summary
	err := json.Unmarshal(b, &s)
	return s, err
}
