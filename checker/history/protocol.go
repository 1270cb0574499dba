package history

import "fmt"

// Error reports a malformed history: where (a line of the input for Read, an
// event's 1-based position for Pair and Recorder) and what is wrong.
type Error struct {
	Where   string // "line 7" or "event 7"
	Problem string
}

func (e *Error) Error() string { return "history: " + e.Where + ": " + e.Problem }

// protocol checks, one event at a time, the rules every history obeys. Read,
// Pair and Recorder share it so a history built in memory is held to the
// same rules as one read from a file.
type protocol struct {
	last int64
	open map[int]openOp // process -> its open invoke
	dead map[int]int    // process -> position of the info that ended it
}

type openOp struct {
	pos int // 1-based position of the invoke
	f   string
}

// step checks e, the event at 1-based position pos, against the events seen
// before it and records it. unit names positions in messages ("line").
func (p *protocol) step(e Event, pos int, unit string) *Error {
	if problem := p.check(e, unit); problem != "" {
		return &Error{Where: fmt.Sprintf("%s %d", unit, pos), Problem: problem}
	}
	p.record(e, pos)
	return nil
}

func (p *protocol) check(e Event, unit string) string {
	switch {
	case !e.Type.valid():
		return fmt.Sprintf("unknown type %q", e.Type)
	case e.Process < 0:
		return fmt.Sprintf("negative process %d", e.Process)
	case e.F == "":
		return "missing f"
	case e.Time < 0:
		return fmt.Sprintf("negative time %d", e.Time)
	case e.Time < p.last:
		return fmt.Sprintf("time goes backwards: %d after %d", e.Time, p.last)
	}
	if e.Type == Invoke {
		return p.checkInvoke(e, unit)
	}
	return p.checkCompletion(e)
}

func (p *protocol) checkInvoke(e Event, unit string) string {
	if pos, ok := p.dead[e.Process]; ok {
		return fmt.Sprintf("process %d invokes again after its info at %s %d", e.Process, unit, pos)
	}
	if op, ok := p.open[e.Process]; ok {
		return fmt.Sprintf("process %d invokes %q while its %q from %s %d is open", e.Process, e.F, op.f, unit, op.pos)
	}
	return ""
}

func (p *protocol) checkCompletion(e Event) string {
	op, ok := p.open[e.Process]
	if !ok {
		return fmt.Sprintf("%s %q by process %d without an open invoke", e.Type, e.F, e.Process)
	}
	if op.f != e.F {
		return fmt.Sprintf("%s %q by process %d completes an invoke of %q", e.Type, e.F, e.Process, op.f)
	}
	return ""
}

func (p *protocol) record(e Event, pos int) {
	if p.open == nil {
		p.open = make(map[int]openOp)
		p.dead = make(map[int]int)
	}
	p.last = e.Time
	switch e.Type {
	case Invoke:
		p.open[e.Process] = openOp{pos: pos, f: e.F}
	case Info:
		delete(p.open, e.Process)
		p.dead[e.Process] = pos
	default:
		delete(p.open, e.Process)
	}
}
