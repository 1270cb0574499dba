package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// standardFields are the fields every event has, in the order Write emits
// them. Any other field is a workload's own and lands in Event.Extra.
var standardFields = []string{"process", "type", "f", "key", "value", "time"}

func isStandard(name string) bool {
	for _, s := range standardFields {
		if s == name {
			return true
		}
	}
	return false
}

// Read parses a history written as JSON Lines and checks that it follows the
// protocol described in the package comment. Blank lines are skipped. An
// error is an *Error naming the line and the problem, or a read error from r.
func Read(r io.Reader) ([]Event, error) {
	br := bufio.NewReader(r)
	var (
		events []Event
		p      protocol
	)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("history: read line %d: %w", lineNo, err)
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			e, problem := decodeEvent(line)
			if problem != "" {
				return nil, &Error{Where: fmt.Sprintf("line %d", lineNo), Problem: problem}
			}
			if perr := p.step(e, lineNo, "line"); perr != nil {
				return nil, perr
			}
			events = append(events, e)
		}
		if err != nil { // io.EOF, after the last (possibly unterminated) line
			return events, nil
		}
	}
}

// decodeEvent parses one line; on failure it returns a description of the
// problem instead of an error so that Read can prefix the line number.
func decodeEvent(line []byte) (Event, string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return Event{}, "bad JSON: " + err.Error()
	}
	if fields == nil { // the line was "null"
		return Event{}, "bad JSON: not an object"
	}
	d := fieldDecoder{fields: fields}
	e := Event{
		Process: int(d.integer("process", strconv.IntSize)),
		Type:    Type(d.str("type", true)),
		F:       d.str("f", true),
		Key:     d.str("key", false),
		Value:   d.value(),
		Time:    d.integer("time", 64),
		Extra:   d.extra(),
	}
	if d.problem != "" {
		return Event{}, d.problem
	}
	return e, ""
}

// fieldDecoder pulls typed fields out of a decoded line. Like bufio.Scanner
// it keeps the first problem and turns later calls into no-ops, so
// decodeEvent reads as a plain list of fields.
type fieldDecoder struct {
	fields  map[string]json.RawMessage
	problem string
}

func (d *fieldDecoder) fail(format string, args ...any) {
	if d.problem == "" {
		d.problem = fmt.Sprintf(format, args...)
	}
}

// raw returns the field's JSON, or nil when it is absent (a problem only if
// the field is required) or an earlier field failed.
func (d *fieldDecoder) raw(name string, required bool) json.RawMessage {
	if d.problem != "" {
		return nil
	}
	raw, ok := d.fields[name]
	if !ok && required {
		d.fail("missing %s", name)
	}
	return raw
}

func (d *fieldDecoder) integer(name string, bits int) int64 {
	raw := d.raw(name, true)
	if raw == nil {
		return 0
	}
	n, err := strconv.ParseInt(string(raw), 10, bits)
	if err != nil {
		d.fail("%s must be an integer, not %s", name, raw)
	}
	return n
}

func (d *fieldDecoder) str(name string, required bool) string {
	raw := d.raw(name, required)
	if raw == nil {
		return ""
	}
	var s string
	// Unmarshal accepts null as "no change", so rule it out first.
	if string(raw) == "null" || json.Unmarshal(raw, &s) != nil {
		d.fail("%s must be a string, not %s", name, raw)
	}
	return s
}

// value reads "value"; a missing value is null.
func (d *fieldDecoder) value() Value {
	raw := d.raw("value", false)
	if raw == nil {
		return Null()
	}
	var v Value
	if err := v.UnmarshalJSON(raw); err != nil {
		d.fail("bad value %s: %v", raw, err)
	}
	return v
}

// extra keeps every non-standard field, compacted so that the same JSON
// written with different spacing compares equal and fits on one line.
func (d *fieldDecoder) extra() map[string]json.RawMessage {
	if d.problem != "" {
		return nil
	}
	var extra map[string]json.RawMessage
	for _, name := range slices.Sorted(maps.Keys(d.fields)) {
		if isStandard(name) {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, d.fields[name]); err != nil {
			d.fail("bad field %q: %v", name, err)
			return nil
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[name] = buf.Bytes()
	}
	return extra
}
