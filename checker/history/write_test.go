package history

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteIsCanonical(t *testing.T) {
	events, err := Read(strings.NewReader(example))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, events))
	// The example is already canonical, so it comes back byte for byte.
	assert.Equal(t, example, buf.String())
}

func TestWriteOrdersFields(t *testing.T) {
	events := []Event{{
		Process: 7, Type: Invoke, F: "lock", Value: Null(), Time: 3,
		Extra: map[string]json.RawMessage{
			"revision": json.RawMessage(`12`),
			"lease":    json.RawMessage(`{ "id": 4 }`),
			"Process":  json.RawMessage(`"not the standard field"`),
		},
	}}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, events))
	assert.Equal(t,
		`{"process":7,"type":"invoke","f":"lock","value":null,"time":3,"Process":"not the standard field","lease":{"id":4},"revision":12}`+"\n",
		buf.String())
}

func TestWriteRoundTrips(t *testing.T) {
	events := []Event{
		{Process: 0, Type: Invoke, F: "put", Key: "a\nb", Value: Str("<v>\t\"q\""), Time: 0},
		{Process: 1, Type: Invoke, F: "cas", Key: "ü", Value: List(Null(), Str("")), Time: 1},
		{Process: 0, Type: OK, F: "put", Key: "a\nb", Value: Str("<v>\t\"q\""), Time: 1,
			Extra: map[string]json.RawMessage{"revision": json.RawMessage(`5`)}},
		{Process: 1, Type: Info, F: "cas", Key: "ü", Value: List(), Time: 9},
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, events))
	assert.Equal(t, 4, strings.Count(buf.String(), "\n"), "one line per event")
	got, err := Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, events, got)
}

func TestWriteRejects(t *testing.T) {
	inv := Event{Process: 1, Type: Invoke, F: "put", Key: "a", Value: Str("x"), Time: 5}
	tests := []struct {
		name   string
		events []Event
		want   string
	}{
		{"protocol", []Event{inv, inv}, `history: event 2: process 1 invokes "put" while its "put" from event 1 is open`},
		{"shadowing extra", []Event{withExtra(inv, "time", `1`)}, `history: event 1: extra field "time" shadows a standard field`},
		{"bad extra JSON", []Event{withExtra(inv, "lease", `{`)}, `history: event 1: bad field "lease": unexpected end of JSON input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			assert.EqualError(t, Write(&buf, tt.events), tt.want)
			assert.Zero(t, buf.Len(), "nothing written on error")
		})
	}
}

func withExtra(e Event, name, raw string) Event {
	e.Extra = map[string]json.RawMessage{name: json.RawMessage(raw)}
	return e
}

func TestEventEqual(t *testing.T) {
	a := Event{Process: 1, Type: OK, F: "get", Key: "k", Value: Str("v"), Time: 3}
	b := a
	b.Extra = map[string]json.RawMessage{}
	assert.True(t, a.Equal(b), "nil and empty Extra are equal")
	b.Extra["revision"] = json.RawMessage(`4`)
	assert.False(t, a.Equal(b))
	a.Extra = map[string]json.RawMessage{"revision": json.RawMessage(`4`)}
	assert.True(t, a.Equal(b))
	a.Value = Str("w")
	assert.False(t, a.Equal(b))
}
