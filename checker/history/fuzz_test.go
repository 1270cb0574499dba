package history

import (
	"bytes"
	"strings"
	"testing"
)

func mustRead(t testing.TB, s string) []Event {
	t.Helper()
	events, err := Read(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return events
}

// FuzzRead checks that Read never panics and that whatever it accepts
// survives Write and Read unchanged. More seeds live in
// testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte(`{"process":1,"type":"invoke","f":"cas","key":"n","value":[1,2.50,-0,1e2],"time":5,"lease":{"id": 7}}`))
	f.Add([]byte("\n\r\n{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"time\":0}\n{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"value\":\"\\u00e9\\ud800\",\"time\":0}"))
	f.Add([]byte(`{"process":1,"type":"ok","f":"put","time":1}`))
	f.Add([]byte(`{"process":1,"process":2,"type":"invoke","f":"x","value":[[[]]],"time":9223372036854775807}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, events); err != nil {
			t.Fatalf("Write of accepted events: %v\ninput: %q", err, data)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatalf("Read of written events: %v\nwritten: %q", err, buf.Bytes())
		}
		if len(again) != len(events) {
			t.Fatalf("round trip has %d events, want %d", len(again), len(events))
		}
		for i := range events {
			if !events[i].Equal(again[i]) {
				t.Fatalf("event %d changed in round trip:\nbefore %+v\nafter  %+v\nwritten: %q", i, events[i], again[i], buf.Bytes())
			}
		}
	})
}
