package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// Write encodes events in the canonical form: one line per event, the
// standard fields in a fixed order (key left out when empty, value always
// present), then the Extra fields sorted by name. Whatever Write writes, Read
// reads back as equal events (strings that are not valid UTF-8 are the one
// exception: like encoding/json, Write replaces bad bytes with U+FFFD).
//
// Write refuses a history that breaks the protocol, or Extra fields that
// shadow a standard field or are not valid JSON; the error names the event.
func Write(w io.Writer, events []Event) error {
	var (
		p   protocol
		buf bytes.Buffer
	)
	for i, e := range events {
		if err := p.step(e, i+1, "event"); err != nil {
			return err
		}
		if problem := appendEvent(&buf, e); problem != "" {
			return &Error{Where: fmt.Sprintf("event %d", i+1), Problem: problem}
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// appendEvent writes one line for e to buf, or returns the problem.
func appendEvent(buf *bytes.Buffer, e Event) string {
	buf.WriteString(`{"process":`)
	buf.WriteString(strconv.Itoa(e.Process))
	buf.WriteString(`,"type":`)
	writeString(buf, string(e.Type))
	buf.WriteString(`,"f":`)
	writeString(buf, e.F)
	if e.Key != "" {
		buf.WriteString(`,"key":`)
		writeString(buf, e.Key)
	}
	buf.WriteString(`,"value":`)
	if err := e.Value.appendJSON(buf); err != nil {
		return fmt.Sprintf("bad value: %v", err)
	}
	buf.WriteString(`,"time":`)
	buf.WriteString(strconv.FormatInt(e.Time, 10))
	for _, name := range slices.Sorted(maps.Keys(e.Extra)) {
		if isStandard(name) {
			return fmt.Sprintf("extra field %q shadows a standard field", name)
		}
		buf.WriteByte(',')
		writeString(buf, name)
		buf.WriteByte(':')
		// Compact both checks the JSON and keeps the event on one line.
		if err := json.Compact(buf, e.Extra[name]); err != nil {
			return fmt.Sprintf("bad field %q: %v", name, err)
		}
	}
	buf.WriteString("}\n")
	return ""
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	buf.Write(b)
}
