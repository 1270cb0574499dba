package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/sim"
)

// Kind classifies an outcome.
type Kind string

// Outcome kinds. Unknown means the checker ran out of time: neither proof nor violation.
const (
	Pass     Kind = "pass"
	Safety   Kind = "safety"
	Liveness Kind = "liveness"
	Unknown  Kind = "unknown"
	// Panic means the world itself panicked: a component broke an internal invariant (or
	// the simulator has a bug). It fails the seed like a violation.
	Panic Kind = "panic"
	// Nondeterministic means two runs of the same seed and options differed (see
	// CheckDeterminism): the run cannot be trusted to replay.
	Nondeterministic Kind = "nondeterministic"
)

// Outcome is one seed's run and verdict.
type Outcome struct {
	Result sim.Result
	Check  checker.Result
	Kind   Kind
	// Problem says what went wrong, in one paragraph; "" on a pass.
	Problem string
	Wall    time.Duration

	determinism bool // the seed was run twice to check its determinism
}

// Failed reports whether the outcome is a safety or liveness failure.
func (o Outcome) Failed() bool {
	return o.Kind == Safety || o.Kind == Liveness || o.Kind == Panic || o.Kind == Nondeterministic
}

// Checker settings for every run.
type Checker struct {
	// Timeout bounds the linearizability check of one history; 0 means 30s.
	Timeout time.Duration
}

// RunSeed runs one world and checks its history.
func RunSeed(sys sim.System, opts sim.Options, chk Checker) (Outcome, error) {
	start := time.Now()
	res, crashed, err := runGuarded(sys, opts)
	if err != nil {
		return Outcome{}, err
	}
	if crashed != "" {
		return Outcome{Result: sim.Result{Seed: opts.Seed, System: sys.Name}, Kind: Panic, Problem: crashed, Wall: time.Since(start)}, nil
	}
	out := Outcome{Result: res, Kind: Pass}
	if chk.Timeout == 0 {
		chk.Timeout = 30 * time.Second
	}
	if sys.Model != "" {
		out.Check, err = checker.Check(sys.Model, checkedOps(sys, res.History), checker.Options{Timeout: chk.Timeout, Annotations: Annotations(res.Faults)})
		if err != nil {
			return Outcome{}, fmt.Errorf("check seed %d: %w", opts.Seed, err)
		}
	}
	var broken error
	if sys.Invariants != nil {
		broken = sys.Invariants(res)
	}
	if broken == nil && sys.StrictSyncs && res.EmptySyncs > 0 {
		broken = fmt.Errorf("%d fsyncs asked for with nothing written since the same process's previous one (the first by %s): each costs a real disk a flush",
			res.EmptySyncs, res.FirstEmpty)
	}
	switch {
	case out.Check.Verdict == checker.Illegal:
		out.Kind, out.Problem = Safety, "not linearizable: "+out.Check.Violation
	case broken != nil:
		out.Kind, out.Problem = Safety, "invariant broken: "+broken.Error()
	case res.Liveness != nil:
		out.Kind, out.Problem = Liveness, res.Liveness.Error()
	case out.Check.Verdict == checker.Unknown:
		out.Kind, out.Problem = Unknown, fmt.Sprintf("the checker gave up after %v", chk.Timeout)
	}
	out.Wall = time.Since(start)
	return out, nil
}

// checkedOps keeps the events of the operations the system's model checks.
func checkedOps(sys sim.System, events []history.Event) []history.Event {
	if sys.Checked == nil {
		return events
	}
	var out []history.Event
	for _, e := range events {
		if sys.Checked(e.F) {
			out = append(out, e)
		}
	}
	return out
}

// runGuarded runs one world and turns a panic into a description with its stack, so one
// broken seed fails alone instead of taking the whole sweep down.
func runGuarded(sys sim.System, opts sim.Options) (res sim.Result, crashed string, err error) {
	defer func() {
		if p := recover(); p != nil {
			crashed = fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	res, err = sim.Run(sys, opts)
	return res, "", err
}

// Annotations turns fault windows into checker annotations for the visualisation.
func Annotations(ws []sim.FaultWindow) []checker.Annotation {
	out := make([]checker.Annotation, len(ws))
	for i, w := range ws {
		out[i] = checker.Annotation{
			Start:  int64(w.Start),
			End:    int64(w.End),
			Label:  string(w.Kind),
			Detail: w.Detail,
			Tag:    "faults",
		}
	}
	return out
}

// WriteEvidence writes a run's evidence into dir: history.jsonl, visualization.html,
// trace.txt (from a traced re-run, which must reproduce the trace hash) and replay.txt.
func WriteEvidence(dir string, sys sim.System, opts sim.Options, out Outcome, replay string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("evidence dir: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "history.jsonl"), func(w *bufio.Writer) error {
		return history.Write(w, out.Result.History)
	}); err != nil {
		return err
	}
	if sys.Model != "" && out.Kind != Panic {
		if err := writeFile(filepath.Join(dir, "visualization.html"), func(w *bufio.Writer) error {
			return out.Check.WriteHTML(w)
		}); err != nil {
			return err
		}
	}
	if err := writeTrace(filepath.Join(dir, "trace.txt"), sys, opts, out); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "replay.txt"), func(w *bufio.Writer) error {
		_, err := fmt.Fprintf(w, "%s\n\nseed: %d\nfaults: %s\ntrace-hash: %s\nproblem: %s\n",
			replay, opts.Seed, out.Result.Profile, out.Result.TraceHash, out.Problem)
		return err
	})
}

// ErrDiverged reports that re-running a seed did not reproduce its trace hash.
var ErrDiverged = errors.New("replay diverged: the run is not deterministic")

func writeTrace(path string, sys sim.System, opts sim.Options, out Outcome) error {
	return writeFile(path, func(w *bufio.Writer) error {
		opts.Trace = func(line string) {
			w.WriteString(line)
			w.WriteByte('\n')
		}
		res, crashed, err := runGuarded(sys, opts)
		switch {
		case err != nil:
			return err
		case crashed != "":
			_, err = fmt.Fprintf(w, "%s\n", crashed) // the trace up to the panic is the evidence
			return err
		case res.TraceHash != out.Result.TraceHash:
			return fmt.Errorf("%w (seed %d: %s then %s)", ErrDiverged, opts.Seed, out.Result.TraceHash, res.TraceHash)
		}
		_, err = fmt.Fprintf(w, "trace-hash: %s\n", res.TraceHash)
		return err
	})
}

func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	if err := fill(w); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
