package component

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValue(t *testing.T) {
	assert.True(t, Value{}.IsNull(), "the zero Value is null")
	s, ok := Str("v5").Str()
	assert.True(t, ok)
	assert.Equal(t, "v5", s)
	_, ok = Null().Str()
	assert.False(t, ok)

	elems := []Value{Str("a"), Null()}
	v := List(elems...)
	elems[0] = Str("changed")
	got, ok := v.List()
	require.True(t, ok)
	got[1] = Str("changed too")
	assert.True(t, v.Equal(List(Str("a"), Null())), "lists are copied in and out")
	assert.False(t, List().Equal(Null()))
	assert.False(t, Str("null").Equal(Null()))
	assert.Equal(t, List(), List([]Value{}...), "every empty list is deeply equal")

	assert.Equal(t, `[["k1", null], "v\"6"]`, List(List(Str("k1"), Null()), Str(`v"6`)).String())
}

// Op and Complete print as they did when they carried history values: the trace hash
// covers these lines.
func TestOpAndCompleteStrings(t *testing.T) {
	assert.Equal(t, `op=3 cas "k1" ["v5", "v6"]`, Op{ID: 3, F: "cas", Key: "k1", Value: List(Str("v5"), Str("v6"))}.String())
	assert.Equal(t, `complete op=3 ok null`, Complete{OpID: 3, Outcome: OK, Value: Null()}.String())
	assert.Equal(t, `complete op=4 fail "v"`, Complete{OpID: 4, Outcome: Fail, Value: Str("v")}.String())
}
