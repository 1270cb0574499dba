package checker

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/orrery/orrery/checker/history"
)

var (
	// ErrUnknownModel is returned by Check for a model name not in Models.
	ErrUnknownModel = errors.New("checker: unknown model")
	// ErrBadOp is returned by Check for an operation the model does not
	// know, or one whose value has the wrong shape.
	ErrBadOp = errors.New("checker: bad operation")
)

// Verdict is the outcome of a check.
type Verdict string

const (
	// Linearizable: some order of the operations explains every result.
	Linearizable Verdict = "ok"
	// Illegal: no order does; Result.Violation says where it breaks.
	Illegal Verdict = "illegal"
	// Unknown: the check ran out of time before deciding.
	Unknown Verdict = "unknown"
)

// Annotation marks a time window (or, with Start == End, an instant) on the
// visualisation, e.g. a fault: Label "partition {1,2}|{3,4,5}". Annotations
// with the same Tag share a row; an empty Tag means "annotations".
type Annotation struct {
	Start, End int64  // same clock as the history's times
	Label      string // shown on the bar
	Detail     string // shown on hover
	Tag        string // row name, e.g. "faults"
}

// Options tune a check.
type Options struct {
	// Timeout bounds the search; 0 means no limit. Past it the verdict is
	// Unknown unless a violation was already found.
	Timeout     time.Duration
	Annotations []Annotation
}

// Result is the outcome of Check. It keeps what WriteHTML needs to draw the
// history; WriteHTML must not be called concurrently on copies of one Result.
type Result struct {
	Verdict Verdict
	Model   string
	Ops     int // operations checked (fail ops and info gets dropped)
	Keys    int // partitions checked
	// IllegalKeys lists, sorted, the keys whose operations have no
	// linearization. Empty unless Verdict is Illegal.
	IllegalKeys []string
	// Violation explains an Illegal verdict for people; "" otherwise.
	Violation string

	model porcupine.Model
	info  porcupine.LinearizationInfo
}

// modelSpec names a model and the operations it admits; all share kvStep.
type modelSpec struct {
	name string
	fs   []string
}

func (spec modelSpec) admits(f string) bool { return slices.Contains(spec.fs, f) }

var models = []modelSpec{
	{name: "kv", fs: []string{"get", "put", "cas", "delete", "txn", "mget"}},
	{name: "register", fs: []string{"get", "put", "cas"}},
}

// Models returns the names Check accepts, sorted.
func Models() []string {
	names := make([]string, len(models))
	for i, spec := range models {
		names[i] = spec.name
	}
	slices.Sort(names)
	return names
}

func lookup(name string) (modelSpec, error) {
	for _, spec := range models {
		if spec.name == name {
			return spec, nil
		}
	}
	return modelSpec{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownModel, name, strings.Join(Models(), ", "))
}

// Check decides whether events, a history in the format of package history,
// is linearizable under the named model. Each key is checked on its own, except
// that keys a txn or mget touches together are checked together (see multikey.go).
// The error is ErrUnknownModel, ErrBadOp, or a *history.Error for a history
// that breaks the protocol; a violation is not an error but a Verdict.
func Check(model string, events []history.Event, opts Options) (Result, error) {
	spec, err := lookup(model)
	if err != nil {
		return Result{}, err
	}
	ops, err := convert(spec, events)
	if err != nil {
		return Result{}, err
	}
	m, partition := newModel(), partitionByKey
	if multiKey(ops) {
		m, partition = newMultiModel(), partitionByComponent
	}
	start := time.Now()
	verdict, info := porcupine.CheckOperationsVerbose(m, ops, opts.Timeout)
	// porcupine only gives up once the timeout has passed; before that,
	// every key was decided and its partial linearizations are final.
	mayHaveTimedOut := opts.Timeout > 0 && time.Since(start) >= opts.Timeout
	info.AddAnnotations(toPorcupine(opts.Annotations))

	parts, keys := partition(ops)
	r := Result{Verdict: verdictOf(verdict), Model: spec.name, Ops: len(ops), Keys: len(keys), model: m, info: info}
	if r.Verdict == Illegal {
		e := explainer{model: m, parts: parts, keys: keys, partials: info.PartialLinearizations()}
		if mayHaveTimedOut {
			e.recheck = opts.Timeout
		}
		r.IllegalKeys, r.Violation = e.explain()
	}
	return r, nil
}

func verdictOf(v porcupine.CheckResult) Verdict {
	switch v {
	case porcupine.Ok:
		return Linearizable
	case porcupine.Illegal:
		return Illegal
	default:
		return Unknown
	}
}

func toPorcupine(annotations []Annotation) []porcupine.Annotation {
	out := make([]porcupine.Annotation, len(annotations))
	for i, a := range annotations {
		tag := a.Tag
		if tag == "" {
			tag = "annotations" // porcupine needs a tag to give them their own row
		}
		out[i] = porcupine.Annotation{Tag: tag, Start: a.Start, End: a.End, Description: a.Label, Details: a.Detail}
	}
	return out
}

// WriteHTML writes porcupine's visualisation of the checked history: one
// tab per key, the (partial) linearizations, and the annotations.
func (r Result) WriteHTML(w io.Writer) error {
	if r.model.Step == nil {
		return errors.New("checker: WriteHTML on a Result that Check did not return")
	}
	return porcupine.Visualize(r.model, r.info, w)
}
