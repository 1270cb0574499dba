package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orrery/orrery/sim"
)

// ReportVersion is the version of the JSON report format that Report writes.
const ReportVersion = 1

// Report is a sweep's summary in a form that travels: one machine writes it as JSON for
// its shard of the seeds, another merges the shards' reports into the report of the whole
// sweep (MergeReports). Everything in it except Shard and Wall is a function of the seeds
// run and the setup, so merged shards equal one sweep over the same seeds.
type Report struct {
	Version int `json:"version"`
	// Setup are the world flags that reproduce every seed ("--workload", "all", ...):
	// reports of different setups do not merge.
	Setup []string `json:"setup"`
	// Planned is the seed list the sweep was given (before sharding), Shard which part of
	// it this report ran ("2/4"; empty for a whole sweep or a merge).
	Planned string `json:"planned"`
	Shard   string `json:"shard,omitempty"`
	// Seeds are the seeds that ran, as ranges ("1-10,12"): a sweep told to stop after
	// some failures runs fewer than planned.
	Seeds    string       `json:"seeds"`
	Runs     int          `json:"runs"`
	Safety   int          `json:"safety"`
	Liveness int          `json:"liveness"`
	Panics   int          `json:"panics"`
	Diverged int          `json:"nondeterministic"`
	Checked  int          `json:"determinismChecked"`
	Failures []SeedReport `json:"failures"`
	Unknown  []SeedReport `json:"unknown"`

	CrashPoints map[string]int `json:"crashPoints"`
	FaultPoints map[string]int `json:"faultPoints"`
	Probes      map[string]int `json:"probes"`
	Fired       map[string]int `json:"fired"`
	Declared    sim.Points     `json:"declared"`

	SimTime time.Duration `json:"simTimeNs"`
	Events  int           `json:"events"`
	Wall    time.Duration `json:"wallNs"` // summed over shards when merged
	// Costs are each seed's, in seed order: a report kept from a good commit is the
	// baseline that sim sweep --baseline compares a later sweep's costs against.
	Costs []SeedCost `json:"costs"`
}

// SeedReport is one failing or inconclusive seed.
type SeedReport struct {
	Seed      uint64 `json:"seed"`
	Kind      Kind   `json:"kind"`
	Problem   string `json:"problem"`
	TraceHash string `json:"traceHash,omitempty"`
	Profile   string `json:"profile,omitempty"`
}

// NewReport describes a finished sweep.
func NewReport(sum Summary, setup []string, planned, shard string) Report {
	return Report{
		Version: ReportVersion, Setup: slices.Clone(setup), Planned: planned, Shard: shard,
		Seeds: FormatSeeds(sum.Ran), Runs: sum.Seeds,
		Safety: sum.Safety, Liveness: sum.Liveness, Panics: sum.Panics, Diverged: sum.Diverged, Checked: sum.Checked,
		Failures: seedReports(sum.Failures), Unknown: seedReports(sum.Unknown),
		CrashPoints: orEmpty(sum.CrashPoints), FaultPoints: orEmpty(sum.FaultPoints),
		Probes: orEmpty(sum.Probes), Fired: orEmpty(sum.Fired), Declared: sum.Declared,
		SimTime: sum.SimTime, Events: sum.Events, Wall: sum.Wall, Costs: orNone(sum.Costs),
	}
}

func orNone(cs []SeedCost) []SeedCost {
	if cs == nil {
		return []SeedCost{}
	}
	return slices.Clone(cs)
}

func seedReports(outs []Outcome) []SeedReport {
	out := make([]SeedReport, 0, len(outs))
	for _, o := range outs {
		out = append(out, SeedReport{Seed: o.Result.Seed, Kind: o.Kind, Problem: o.Problem, TraceHash: o.Result.TraceHash, Profile: o.Result.Profile.String()})
	}
	return out
}

func orEmpty(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// Summary turns the report back into a summary, for printing: outcomes carry their seed,
// kind, problem and trace hash, not their histories or fault profiles.
func (r Report) Summary() (Summary, error) {
	ran, err := ParseSeeds(r.Seeds)
	if r.Seeds == "" {
		ran, err = nil, nil
	}
	if err != nil {
		return Summary{}, fmt.Errorf("report seeds: %w", err)
	}
	outcomes := func(rs []SeedReport) []Outcome {
		var out []Outcome
		for _, s := range rs {
			out = append(out, Outcome{Result: sim.Result{Seed: s.Seed, TraceHash: s.TraceHash}, Kind: s.Kind, Problem: s.Problem})
		}
		return out
	}
	return Summary{
		Seeds: r.Runs, Ran: ran, Failures: outcomes(r.Failures), Unknown: outcomes(r.Unknown),
		Safety: r.Safety, Liveness: r.Liveness, Panics: r.Panics, Checked: r.Checked, Diverged: r.Diverged,
		CrashPoints: r.CrashPoints, FaultPoints: r.FaultPoints, Probes: r.Probes, Fired: r.Fired, Declared: r.Declared,
		SimTime: r.SimTime, Events: r.Events, Wall: r.Wall, Costs: slices.Clone(r.Costs),
	}, nil
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport reads a report that WriteJSON wrote, refusing other versions and unknown
// fields (a report of a newer Orrery is not silently half-read).
func ReadReport(rd io.Reader) (Report, error) {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return Report{}, fmt.Errorf("not a sweep report: %w", err)
	}
	if r.Version != ReportVersion {
		return Report{}, fmt.Errorf("sweep report version %d, want %d", r.Version, ReportVersion)
	}
	if r.Seeds != "" {
		seeds, err := ParseSeeds(r.Seeds)
		if err != nil {
			return Report{}, fmt.Errorf("sweep report seeds: %w", err)
		}
		if len(seeds) != r.Runs {
			return Report{}, fmt.Errorf("sweep report lists %d seeds but counts %d runs", len(seeds), r.Runs)
		}
	} else if r.Runs != 0 {
		return Report{}, fmt.Errorf("sweep report counts %d runs but lists no seeds", r.Runs)
	}
	return r, nil
}

// MergeReports combines the reports of a sweep's shards into the report of the whole
// sweep. The reports must share their setup and planned seeds and must not overlap; the
// merge has no shard and the shards' summed wall time. Missing lists the shards of
// "K/N" form that no report covers, so a caller can tell an incomplete merge.
func MergeReports(rs []Report) (merged Report, missing []string, err error) {
	if len(rs) == 0 {
		return Report{}, nil, fmt.Errorf("merge: no reports")
	}
	first := rs[0]
	m := Report{Version: ReportVersion, Setup: slices.Clone(first.Setup), Planned: first.Planned, Declared: first.Declared,
		Failures: []SeedReport{}, Unknown: []SeedReport{}, Costs: []SeedCost{}}
	var ran []uint64
	seen := map[uint64]int{}
	shards := map[int]bool{}
	total := 0
	for i, r := range rs {
		if !slices.Equal(r.Setup, first.Setup) {
			return Report{}, nil, fmt.Errorf("merge: report %d was run with %q, report 1 with %q", i+1, strings.Join(r.Setup, " "), strings.Join(first.Setup, " "))
		}
		if r.Planned != first.Planned {
			return Report{}, nil, fmt.Errorf("merge: report %d planned seeds %s, report 1 planned %s", i+1, r.Planned, first.Planned)
		}
		sum, err := r.Summary()
		if err != nil {
			return Report{}, nil, fmt.Errorf("merge: report %d: %w", i+1, err)
		}
		for _, s := range sum.Ran {
			if j, dup := seen[s]; dup {
				return Report{}, nil, fmt.Errorf("merge: seed %d is in report %d and report %d", s, j, i+1)
			}
			seen[s] = i + 1
		}
		ran = append(ran, sum.Ran...)
		if k, n, err := ParseShard(r.Shard); r.Shard != "" && err == nil {
			if total != 0 && n != total {
				return Report{}, nil, fmt.Errorf("merge: report %d is shard %s of %d shards, an earlier one of %d", i+1, r.Shard, n, total)
			}
			total = n
			shards[k] = true
		}
		m.Runs += r.Runs
		m.Safety += r.Safety
		m.Liveness += r.Liveness
		m.Panics += r.Panics
		m.Diverged += r.Diverged
		m.Checked += r.Checked
		m.Failures = append(m.Failures, r.Failures...)
		m.Unknown = append(m.Unknown, r.Unknown...)
		m.CrashPoints = addCounts(m.CrashPoints, r.CrashPoints)
		m.FaultPoints = addCounts(m.FaultPoints, r.FaultPoints)
		m.Probes = addCounts(m.Probes, r.Probes)
		m.Fired = addCounts(m.Fired, r.Fired)
		m.Declared = m.Declared.With(r.Declared)
		m.SimTime += r.SimTime
		m.Events += r.Events
		m.Wall += r.Wall
		m.Costs = append(m.Costs, r.Costs...)
	}
	sortCosts(m.Costs)
	slices.Sort(ran)
	m.Seeds = FormatSeeds(ran)
	bySeed := func(a, b SeedReport) int { return cmpSeed(a.Seed, b.Seed) }
	slices.SortFunc(m.Failures, bySeed)
	slices.SortFunc(m.Unknown, bySeed)
	for k := 1; k <= total; k++ {
		if !shards[k] {
			missing = append(missing, fmt.Sprintf("%d/%d", k, total))
		}
	}
	return m, missing, nil
}

// FormatSeeds writes sorted seeds as ParseSeeds reads them, runs as ranges: "1-3,7".
func FormatSeeds(seeds []uint64) string {
	var b strings.Builder
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(seeds[i], 10))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.FormatUint(seeds[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

// ParseShard reads "K/N" (1 <= K <= N): the K-th of N shards.
func ParseShard(s string) (k, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		k, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			n, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("bad shard %q: want K/N with 1 <= K <= N", s)
	}
	return k, n, nil
}

// Shard keeps the K-th of every N seeds (K counted from 1), by position in the list, so
// that neighbouring seeds, which cost alike, spread over the shards.
func Shard(seeds []uint64, k, n int) []uint64 {
	var out []uint64
	for i, s := range seeds {
		if i%n == k-1 {
			out = append(out, s)
		}
	}
	return out
}
