package checker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When porcupine's timeout cuts the search short after finding one illegal
// key, the other keys look unfinished too. The explainer must recheck them
// rather than call them illegal.
func TestExplainRechecksAfterTimeout(t *testing.T) {
	spec, err := lookup("register")
	require.NoError(t, err)
	ops, err := convert(spec, hist(t,
		"0 invoke put a v1 10", "1 invoke put b v1 10",
		"0 ok put a v1 20", "1 ok put b v1 20",
		"2 invoke get a _ 30", "3 invoke get b _ 30",
		"2 ok get a v1 40", "3 ok get b _ 40",
	))
	require.NoError(t, err)
	parts, keys := partitionByKey(ops)
	require.Equal(t, []string{"a", "b"}, keys)

	// As porcupine leaves them when cancelled: nothing linearized anywhere.
	cutShort := [][][]int{nil, nil}
	e := explainer{model: newModel(), parts: parts, keys: keys, partials: cutShort, recheck: time.Minute}
	illegal, violation := e.explain()
	assert.Equal(t, []string{"b"}, illegal)
	assert.Equal(t, `key "b": no linearization; longest linearizable prefix has 1 of 2 ops; cannot place: process 3 get b -> null [30, 40] (state was "v1")`, violation)

	// Without the recheck both keys would be blamed.
	e.recheck = 0
	illegal, _ = e.explain()
	assert.Equal(t, []string{"a", "b"}, illegal)
}
