package register

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCellRoundTrip(t *testing.T) {
	for _, c := range []Cell{
		{Key: "k", TS: TS{Counter: 1, Writer: 6}, Val: Value{S: "v1", Set: true}},
		{Key: "", TS: TS{}, Val: Value{}},
		{Key: "key with \x00 bytes", TS: TS{Counter: 1 << 40, Writer: 9}, Val: Value{S: "", Set: true}},
	} {
		got, err := decodeCell(encodeCell(c))
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
}

func TestDecodeCellRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {5, 'a'}, {1, 'a'}, {1, 'a', 1}, {1, 'a', 1, 2, 7}} {
		_, err := decodeCell(b)
		assert.Error(t, err, "%x", b)
	}
}

func FuzzDecodeCell(f *testing.F) {
	f.Add(encodeCell(Cell{Key: "k", TS: TS{Counter: 3, Writer: 4}, Val: Value{S: "x", Set: true}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCell(b)
		if err != nil {
			return
		}
		again, err := decodeCell(encodeCell(c))
		require.NoError(t, err)
		require.Equal(t, c, again, "what decodes must round-trip")
	})
}

func TestTimestampOrder(t *testing.T) {
	assert.True(t, TS{Counter: 1, Writer: 9}.Less(TS{Counter: 2, Writer: 1}))
	assert.True(t, TS{Counter: 2, Writer: 1}.Less(TS{Counter: 2, Writer: 3}), "ties broken by writer")
	assert.False(t, TS{Counter: 2, Writer: 3}.Less(TS{Counter: 2, Writer: 3}))
}
