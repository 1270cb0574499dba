package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/node/component"
)

// Operation values translate to history values and back without loss, and print the same
// way (the trace hash covers the component's String, the history file the history's).
func TestValueTranslation(t *testing.T) {
	for _, v := range []Value{
		Null(), Str(""), Str("null"), Str("v5"), Str("a \"quoted\"\nline"),
		List(), List(Null()), List(Str("v5"), Str("v6")),
		List(List(Str("k1"), Str("e")), List(Str("k0"), Null())),
	} {
		h := HistoryValue(v)
		assert.Equal(t, v.String(), h.String())
		assert.True(t, OpValue(h).Equal(v), "%s round trip", v)
		assert.Equal(t, v, OpValue(h), "%s round trip is deeply equal", v)
	}
}

func TestHistoryType(t *testing.T) {
	for o, want := range map[Outcome]history.Type{OK: history.OK, Fail: history.Fail, component.Info: history.Info} {
		got, err := HistoryType(o)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, string(want), o.String(), "an outcome prints as its history type")
	}
	_, err := HistoryType(component.Outcome(0))
	assert.ErrorContains(t, err, "outcome(0)")
}
