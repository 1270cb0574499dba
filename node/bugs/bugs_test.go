package bugs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSet(t *testing.T) {
	var zero Set
	assert.True(t, zero.Empty())
	assert.False(t, zero.On("raft.vote-twice"))

	s := With("b.y", "a.x", "b.y")
	assert.Equal(t, []string{"a.x", "b.y"}, s.Names())
	assert.True(t, s.On("a.x"))
	assert.False(t, s.On("a.z"))
	assert.Equal(t, "a.x,b.y", s.String())
	assert.True(t, With("", "").Empty(), "empty names are no bugs")
}

func TestValidate(t *testing.T) {
	cat := Catalog{{Name: "a.x"}, {Name: "b.y"}}
	require.NoError(t, With("a.x").Validate(cat))
	err := With("a.x", "c.z").Validate(cat)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"c.z"`)
	assert.Contains(t, err.Error(), "a.x, b.y")
}
