package history

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// example is the history from the design document.
const example = `{"process":3,"type":"invoke","f":"put","key":"k1","value":"v5","time":1200}
{"process":4,"type":"invoke","f":"get","key":"k1","value":null,"time":1300}
{"process":3,"type":"ok","f":"put","key":"k1","value":"v5","time":2100}
{"process":4,"type":"ok","f":"get","key":"k1","value":"v5","time":2200}
{"process":5,"type":"invoke","f":"cas","key":"k1","value":["v5","v6"],"time":2300}
{"process":5,"type":"info","f":"cas","key":"k1","value":["v5","v6"],"time":9000}
`

func TestReadExample(t *testing.T) {
	events, err := Read(strings.NewReader(example))
	require.NoError(t, err)
	want := []Event{
		{Process: 3, Type: Invoke, F: "put", Key: "k1", Value: Str("v5"), Time: 1200},
		{Process: 4, Type: Invoke, F: "get", Key: "k1", Value: Null(), Time: 1300},
		{Process: 3, Type: OK, F: "put", Key: "k1", Value: Str("v5"), Time: 2100},
		{Process: 4, Type: OK, F: "get", Key: "k1", Value: Str("v5"), Time: 2200},
		{Process: 5, Type: Invoke, F: "cas", Key: "k1", Value: List(Str("v5"), Str("v6")), Time: 2300},
		{Process: 5, Type: Info, F: "cas", Key: "k1", Value: List(Str("v5"), Str("v6")), Time: 9000},
	}
	assert.Equal(t, want, events)
}

func TestReadLenient(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Event
	}{
		{
			name: "empty input",
			in:   "",
		},
		{
			name: "blank lines, CRLF, no final newline",
			in:   "\n  \r\n{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\",\"value\":null,\"time\":0}\r\n\n\t\n{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"value\":\"x\",\"time\":0}",
			want: []Event{
				{Process: 0, Type: Invoke, F: "get", Key: "a", Time: 0},
				{Process: 0, Type: OK, F: "get", Key: "a", Value: Str("x"), Time: 0},
			},
		},
		{
			name: "missing key and value",
			in:   `{"process":1,"type":"invoke","f":"txn","time":5}`,
			want: []Event{{Process: 1, Type: Invoke, F: "txn", Time: 5}},
		},
		{
			name: "numbers as values",
			in:   `{"process":1,"type":"invoke","f":"cas","key":"n","value":[1,2.50],"time":5}`,
			want: []Event{{Process: 1, Type: Invoke, F: "cas", Key: "n", Value: List(Str("1"), Str("2.5")), Time: 5}},
		},
		{
			name: "extra fields kept, compacted",
			in:   `{"lease": { "id" : 7 },"process":1,"type":"invoke","f":"put","key":"a","value":"x","time":5,"revision":12}`,
			want: []Event{{Process: 1, Type: Invoke, F: "put", Key: "a", Value: Str("x"), Time: 5,
				Extra: map[string]json.RawMessage{"lease": json.RawMessage(`{"id":7}`), "revision": json.RawMessage(`12`)}}},
		},
		{
			name: "info ends a process, fail does not",
			in: `{"process":1,"type":"invoke","f":"put","key":"a","value":"x","time":1}
{"process":1,"type":"fail","f":"put","key":"a","value":"x","time":2}
{"process":1,"type":"invoke","f":"put","key":"a","value":"y","time":3}
{"process":1,"type":"info","f":"put","key":"a","value":"y","time":4}
{"process":2,"type":"invoke","f":"get","key":"a","value":null,"time":4}`,
			want: []Event{
				{Process: 1, Type: Invoke, F: "put", Key: "a", Value: Str("x"), Time: 1},
				{Process: 1, Type: Fail, F: "put", Key: "a", Value: Str("x"), Time: 2},
				{Process: 1, Type: Invoke, F: "put", Key: "a", Value: Str("y"), Time: 3},
				{Process: 1, Type: Info, F: "put", Key: "a", Value: Str("y"), Time: 4},
				{Process: 2, Type: Invoke, F: "get", Key: "a", Time: 4},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := Read(strings.NewReader(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, events)
		})
	}
}

func TestReadErrors(t *testing.T) {
	const (
		inv  = `{"process":1,"type":"invoke","f":"put","key":"a","value":"x","time":10}` + "\n"
		ok   = `{"process":1,"type":"ok","f":"put","key":"a","value":"x","time":20}` + "\n"
		info = `{"process":1,"type":"info","f":"put","key":"a","value":"x","time":20}` + "\n"
	)
	tests := []struct {
		name string
		in   string
		want string // the whole error message
	}{
		{"bad JSON", inv + "{\"process\":1,", `history: line 2: bad JSON: unexpected end of JSON input`},
		{"not an object", "\n[1,2]\n", `history: line 2: bad JSON: json: cannot unmarshal array into Go value of type map[string]json.RawMessage`},
		{"null line", "null\n", `history: line 1: bad JSON: not an object`},
		{"unknown type", `{"process":1,"type":"done","f":"put","value":"x","time":10}`, `history: line 1: unknown type "done"`},
		{"negative process", `{"process":-1,"type":"invoke","f":"put","value":"x","time":10}`, `history: line 1: negative process -1`},
		{"fractional process", `{"process":1.5,"type":"invoke","f":"put","value":"x","time":10}`, `history: line 1: process must be an integer, not 1.5`},
		{"string process", `{"process":"1","type":"invoke","f":"put","value":"x","time":10}`, `history: line 1: process must be an integer, not "1"`},
		{"missing process", `{"type":"invoke","f":"put","value":"x","time":10}`, `history: line 1: missing process`},
		{"missing type", `{"process":1,"f":"put","value":"x","time":10}`, `history: line 1: missing type`},
		{"missing f", `{"process":1,"type":"invoke","value":"x","time":10}`, `history: line 1: missing f`},
		{"empty f", `{"process":1,"type":"invoke","f":"","value":"x","time":10}`, `history: line 1: missing f`},
		{"missing time", `{"process":1,"type":"invoke","f":"put","value":"x"}`, `history: line 1: missing time`},
		{"null key", `{"process":1,"type":"invoke","f":"put","key":null,"value":"x","time":1}`, `history: line 1: key must be a string, not null`},
		{"bool value", `{"process":1,"type":"invoke","f":"put","value":true,"time":1}`, `history: line 1: bad value true: history: value must be null, a string, a number or a list, not bool`},
		{"negative time", `{"process":1,"type":"invoke","f":"put","value":"x","time":-5}`, `history: line 1: negative time -5`},
		{"time backwards", inv + `{"process":2,"type":"invoke","f":"get","value":null,"time":9}`, `history: line 2: time goes backwards: 9 after 10`},
		{"completion without invoke", ok, `history: line 1: ok "put" by process 1 without an open invoke`},
		{"completion twice", inv + ok + ok, `history: line 3: ok "put" by process 1 without an open invoke`},
		{"completion of another f", inv + `{"process":1,"type":"ok","f":"get","value":"x","time":20}`, `history: line 2: ok "get" by process 1 completes an invoke of "put"`},
		{"second invoke while open", inv + "\n" + `{"process":1,"type":"invoke","f":"get","value":null,"time":20}`, `history: line 3: process 1 invokes "get" while its "put" from line 1 is open`},
		{"invoke after info", inv + info + `{"process":1,"type":"invoke","f":"get","value":null,"time":30}`, `history: line 3: process 1 invokes again after its info at line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := Read(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Nil(t, events)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestReadErrorType(t *testing.T) {
	_, err := Read(strings.NewReader("\n\n{}"))
	var herr *Error
	require.True(t, errors.As(err, &herr))
	assert.Equal(t, "line 3", herr.Where)
	assert.Equal(t, "missing process", herr.Problem)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadPassesOnReaderErrors(t *testing.T) {
	_, err := Read(failingReader{})
	assert.EqualError(t, err, "history: read line 1: disk on fire")
}
