package history

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValueAccessors(t *testing.T) {
	assert.True(t, Value{}.IsNull(), "zero Value is null")
	assert.True(t, Null().IsNull())

	s, ok := Str("v5").Str()
	assert.True(t, ok)
	assert.Equal(t, "v5", s)
	_, ok = Null().Str()
	assert.False(t, ok)

	list, ok := List(Str("a"), Null()).List()
	require.True(t, ok)
	require.Len(t, list, 2)
	assert.True(t, list[0].Equal(Str("a")))
	assert.True(t, list[1].IsNull())
	_, ok = Str("a").List()
	assert.False(t, ok)
}

func TestValueIsImmutable(t *testing.T) {
	elems := []Value{Str("a")}
	v := List(elems...)
	elems[0] = Str("changed")
	got, _ := v.List()
	got[0] = Str("changed too")
	assert.True(t, v.Equal(List(Str("a"))))
}

func TestValueEqual(t *testing.T) {
	tests := []struct {
		a, b Value
		want bool
	}{
		{Null(), Null(), true},
		{Null(), Str(""), false},
		{Str("null"), Null(), false},
		{Str("a"), Str("a"), true},
		{List(), List(), true},
		{List(), Null(), false},
		{List(Str("a"), Str("b")), List(Str("a"), Str("b")), true},
		{List(Str("a"), Str("b")), List(Str("b"), Str("a")), false},
		{List(Str("a")), List(Str("a"), Null()), false},
		{List(List(Null())), List(List(Null())), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.a.Equal(tt.b), "%v == %v", tt.a, tt.b)
		assert.Equal(t, tt.want, tt.b.Equal(tt.a), "%v == %v", tt.b, tt.a)
	}
}

func TestValueString(t *testing.T) {
	assert.Equal(t, "null", Null().String())
	assert.Equal(t, `"null"`, Str("null").String())
	assert.Equal(t, `["v5", "v6"]`, List(Str("v5"), Str("v6")).String())
	assert.Equal(t, `[]`, List().String())
}

func TestValueJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    Value
		wantErr bool
	}{
		{in: `null`, want: Null()},
		{in: `"v5"`, want: Str("v5")},
		{in: `["v5","v6"]`, want: List(Str("v5"), Str("v6"))},
		{in: `[]`, want: List()},
		{in: `[null,["x"]]`, want: List(Null(), List(Str("x")))},
		// Numbers become their decimal text.
		{in: `5`, want: Str("5")},
		{in: `-12`, want: Str("-12")},
		{in: `-0`, want: Str("0")},
		{in: `5.0`, want: Str("5")},
		{in: `5e0`, want: Str("5")},
		{in: `1.5E3`, want: Str("1500")},
		{in: `0.25`, want: Str("0.25")},
		{in: `-0.0`, want: Str("0")},
		{in: `123456789012345678901234567890`, want: Str("123456789012345678901234567890")},
		{in: `[1,"1"]`, want: List(Str("1"), Str("1"))},
		{in: `1e999`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{"a":1}`, wantErr: true},
		{in: `["a",{}]`, wantErr: true},
		{in: `"a" "b"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got Value
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %v, want %v", got, tt.want)

			// What was read marshals to JSON that reads back the same.
			b, err := json.Marshal(got)
			require.NoError(t, err)
			var again Value
			require.NoError(t, json.Unmarshal(b, &again))
			assert.True(t, got.Equal(again), "%s round-trips to %v", b, again)
		})
	}
}
