package mutate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"text/tabwriter"
)

// DefaultWorkloads maps a package (its directory under the module root) to the sweeps that
// exercise it, cheapest and most specific first.
var DefaultWorkloads = map[string][]string{
	"node/raft":     {"raftlog", "raftreg", "all", "members"},
	"node/rsm":      {"all", "members", "mvcc"},
	"node/kv":       {"mvcc", "kv", "watch", "all", "append"},
	"node/kvserver": {"mvcc", "all", "lock"},
}

// Sample picks n of ms, the same n for the same ms and seed, in ms's order; n <= 0 or
// n >= len(ms) keeps them all.
func Sample(ms []Mutant, n int, seed uint64) []Mutant {
	if n <= 0 || n >= len(ms) {
		return ms
	}
	idx := rand.New(rand.NewPCG(seed, 0x6d757461)).Perm(len(ms))[:n]
	slices.Sort(idx)
	out := make([]Mutant, n)
	for i, j := range idx {
		out[i] = ms[j]
	}
	return out
}

// ParseEquivalent reads a list of mutants judged equivalent: one per line, the ID (bare, or
// prefixed with the package directory: node/raft/log.go:12:5:boundary), then the reason.
// Blank lines and lines starting with # are skipped. A line without a reason is an error:
// an exclusion from the score must say why.
func ParseEquivalent(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, why, _ := strings.Cut(line, " ")
		why = strings.TrimSpace(why)
		if strings.Count(id, ":") < 3 {
			return nil, fmt.Errorf("line %d: %q is not a mutant ID (file.go:line:col:operator)", n, id)
		}
		if why == "" {
			return nil, fmt.Errorf("line %d: %s: no reason given", n, id)
		}
		out[id] = why
	}
	return out, sc.Err()
}

// Report is the outcome of a run.
type Report struct {
	Seeds    string          `json:"seeds"`
	Packages []PackageReport `json:"packages"`
}

// PackageReport is one package's mutants and score.
type PackageReport struct {
	Dir       string   `json:"package"`
	Workloads []string `json:"workloads"`
	Total     int      `json:"generated"` // before sampling
	Sampled   int      `json:"sampled"`   // planned; more than len(Results) if interrupted
	Results   []Result `json:"results"`
}

// Score counts a package's results.
type Score struct {
	Run, NotCompiled, Equivalent int
	Sweep, Test, Survived        int
	Cost                         int // of Sweep: killed by a cost regression, not a failed check
}

// Scored is the denominator: compiled mutants not judged equivalent.
func (s Score) Scored() int { return s.Run - s.NotCompiled - s.Equivalent }

// Score counts p's results by status.
func (p PackageReport) Score() Score {
	var s Score
	for _, r := range p.Results {
		s.Run++
		switch r.Status {
		case NotCompiled:
			s.NotCompiled++
		case Equivalent:
			s.Equivalent++
		case KilledBySweep:
			s.Sweep++
		case KilledByCost:
			s.Sweep++
			s.Cost++
		case KilledByTest:
			s.Test++
		case Survived:
			s.Survived++
		}
	}
	return s
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
}

// ScoreLine is the package's one-line summary.
func (p PackageReport) ScoreLine() string {
	s := p.Score()
	run := fmt.Sprintf("%d of %d mutants run", s.Run, p.Total)
	if s.Run < p.Sampled {
		run = fmt.Sprintf("%d run of %d sampled from %d mutants (interrupted)", s.Run, p.Sampled, p.Total)
	}
	return fmt.Sprintf("score %s: killed by sweeps %d/%d (%s; %d of them by cost), by sweeps or tests %d/%d (%s)  [%s, %d not compiled, %d equivalent, %d survived]",
		p.Dir, s.Sweep, s.Scored(), pct(s.Sweep, s.Scored()), s.Cost, s.Sweep+s.Test, s.Scored(), pct(s.Sweep+s.Test, s.Scored()),
		run, s.NotCompiled, s.Equivalent, s.Survived)
}

// WriteTable writes every package's MUTANT / CHANGE / KILLED BY table and score line.
func (r Report) WriteTable(w io.Writer) error {
	for i, p := range r.Packages {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (workloads %s, seeds %s)\n", p.Dir, strings.Join(p.Workloads, ", "), r.Seeds)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MUTANT\tCHANGE\tKILLED BY")
		for _, res := range p.Results {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", res.ID, res.Change, res.KilledBy())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, p.ScoreLine())
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
