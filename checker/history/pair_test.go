package history

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPair(t *testing.T) {
	events, err := Read(strings.NewReader(example +
		`{"process":6,"type":"invoke","f":"put","key":"k2","value":"a","time":9100,"lease":3}
{"process":7,"type":"invoke","f":"delete","key":"k2","value":null,"time":9200}
{"process":6,"type":"fail","f":"put","key":"k2","value":"a","time":9300,"error":"no leader","lease":4}
`))
	require.NoError(t, err)
	ops, err := Pair(events)
	require.NoError(t, err)
	want := []Op{
		{Process: 3, F: "put", Key: "k1", Input: Str("v5"), Output: Str("v5"), Call: 1200, Return: 2100, Outcome: OK, Event: 0},
		{Process: 4, F: "get", Key: "k1", Input: Null(), Output: Str("v5"), Call: 1300, Return: 2200, Outcome: OK, Event: 1},
		{Process: 5, F: "cas", Key: "k1", Input: List(Str("v5"), Str("v6")), Output: List(Str("v5"), Str("v6")), Call: 2300, Return: 9000, Outcome: Info, Event: 4},
		{Process: 6, F: "put", Key: "k2", Input: Str("a"), Output: Str("a"), Call: 9100, Return: 9300, Outcome: Fail, Event: 6,
			Extra: map[string]json.RawMessage{"lease": json.RawMessage(`4`), "error": json.RawMessage(`"no leader"`)}},
		{Process: 7, F: "delete", Key: "k2", Input: Null(), Output: Null(), Call: 9200, Return: NoReturn, Outcome: Info, Event: 7},
	}
	assert.Equal(t, want, ops)
}

func TestPairDoesNotAlias(t *testing.T) {
	extra := map[string]json.RawMessage{"lease": json.RawMessage(`1`)}
	events := []Event{
		{Process: 0, Type: Invoke, F: "put", Value: Str("x"), Time: 1, Extra: extra},
		{Process: 0, Type: OK, F: "put", Value: Str("x"), Time: 2, Extra: map[string]json.RawMessage{"revision": json.RawMessage(`2`)}},
	}
	ops, err := Pair(events)
	require.NoError(t, err)
	assert.Len(t, ops[0].Extra, 2)
	assert.Len(t, extra, 1, "the invoke's Extra is not modified")
}

func TestPairRejectsBrokenProtocol(t *testing.T) {
	_, err := Pair([]Event{{Process: 0, Type: OK, F: "get", Time: 1}})
	assert.EqualError(t, err, `history: event 1: ok "get" by process 0 without an open invoke`)
}
