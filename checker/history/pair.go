package history

import (
	"encoding/json"
	"maps"
)

// NoReturn is the Return time of an operation that was invoked but never
// completed. Times in a history are never negative, so it cannot be
// mistaken for a real time.
const NoReturn int64 = -1

// Op is one operation: an invoke paired with its completion.
type Op struct {
	Process int
	F       string
	Key     string // the invoke's key
	Input   Value  // the invoke's value
	Output  Value  // the completion's value; null if there was none
	Call    int64  // time of the invoke
	Return  int64  // time of the completion, or NoReturn
	Outcome Type   // OK, Fail or Info; Info also when there was no completion
	// Extra merges the invoke's and the completion's extra fields; the
	// completion's win, since it knows more (e.g. the revision written).
	Extra map[string]json.RawMessage
	// Event is the 0-based index of the invoke in the events given to Pair,
	// so that reports can point back into the history.
	Event int
}

// Pair matches every invoke with its completion and returns the operations
// in the order they were invoked. An invoke without a completion becomes an
// Info operation with Return == NoReturn. Events that break the protocol
// give an *Error naming the (1-based) event.
func Pair(events []Event) ([]Op, error) {
	var (
		p    protocol
		ops  []Op
		open = make(map[int]int) // process -> index in ops of its open op
	)
	for i, e := range events {
		if err := p.step(e, i+1, "event"); err != nil {
			return nil, err
		}
		if e.Type == Invoke {
			open[e.Process] = len(ops)
			ops = append(ops, invoked(e, i))
			continue
		}
		complete(&ops[open[e.Process]], e)
		delete(open, e.Process)
	}
	return ops, nil
}

func invoked(e Event, index int) Op {
	return Op{
		Process: e.Process,
		F:       e.F,
		Key:     e.Key,
		Input:   e.Value,
		Call:    e.Time,
		Return:  NoReturn,
		Outcome: Info,
		Extra:   maps.Clone(e.Extra),
		Event:   index,
	}
}

func complete(op *Op, e Event) {
	op.Output = e.Value
	op.Return = e.Time
	op.Outcome = e.Type
	if len(e.Extra) > 0 && op.Extra == nil {
		op.Extra = make(map[string]json.RawMessage, len(e.Extra))
	}
	maps.Copy(op.Extra, e.Extra)
}
