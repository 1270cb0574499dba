package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

type valueKind uint8

const (
	kindNull valueKind = iota // the zero Value is null
	kindStr
	kindList
)

// Value is the payload of an event: null, a string, or a list of values (a
// cas carries [expected, new]). The zero Value is null. Values are immutable:
// constructors and accessors copy lists, so a Value can be shared freely.
type Value struct {
	kind valueKind
	s    string
	list []Value
}

// Null returns the null value (an absent key, or no payload).
func Null() Value { return Value{} }

// Str returns a string value.
func Str(s string) Value { return Value{kind: kindStr, s: s} }

// List returns a list value holding copies of vs.
func List(vs ...Value) Value {
	// A nil slice for the empty list keeps every empty list deeply equal,
	// whichever way it was built.
	var list []Value
	if len(vs) > 0 {
		list = append([]Value(nil), vs...)
	}
	return Value{kind: kindList, list: list}
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == kindNull }

// Str returns the string held by v and whether v is a string.
func (v Value) Str() (string, bool) { return v.s, v.kind == kindStr }

// List returns a copy of the elements of v and whether v is a list.
func (v Value) List() ([]Value, bool) {
	if v.kind != kindList {
		return nil, false
	}
	return append([]Value(nil), v.list...), true
}

// Equal reports whether v and o are the same value.
func (v Value) Equal(o Value) bool {
	if v.kind != o.kind || v.s != o.s || len(v.list) != len(o.list) {
		return false
	}
	for i := range v.list {
		if !v.list[i].Equal(o.list[i]) {
			return false
		}
	}
	return true
}

// String renders v for people: null, a quoted string, or a bracketed list,
// so the string "null" and the null value never look alike.
func (v Value) String() string {
	switch v.kind {
	case kindStr:
		return strconv.Quote(v.s)
	case kindList:
		parts := make([]string, len(v.list))
		for i, e := range v.list {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return "null"
	}
}

// MarshalJSON encodes v as JSON null, a JSON string or a JSON array.
func (v Value) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := v.appendJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (v Value) appendJSON(buf *bytes.Buffer) error {
	switch v.kind {
	case kindStr:
		b, err := json.Marshal(v.s)
		if err != nil {
			return err
		}
		buf.Write(b)
	case kindList:
		buf.WriteByte('[')
		for i, e := range v.list {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := e.appendJSON(buf); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		buf.WriteString("null")
	}
	return nil
}

// UnmarshalJSON decodes null, a string, a number (kept as its decimal text)
// or an array of those.
func (v *Value) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	// UseNumber keeps the literal text, so large integers survive exactly.
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("history: trailing data after value")
	}
	val, err := fromJSON(raw)
	if err != nil {
		return err
	}
	*v = val
	return nil
}

func fromJSON(raw any) (Value, error) {
	switch x := raw.(type) {
	case nil:
		return Null(), nil
	case string:
		return Str(x), nil
	case json.Number:
		s, err := decimalText(x)
		if err != nil {
			return Value{}, err
		}
		return Str(s), nil
	case []any:
		list := make([]Value, len(x))
		for i, e := range x {
			val, err := fromJSON(e)
			if err != nil {
				return Value{}, err
			}
			list[i] = val
		}
		return List(list...), nil
	default:
		return Value{}, fmt.Errorf("history: value must be null, a string, a number or a list, not %T", raw)
	}
}

// decimalText turns a JSON number into plain decimal text: integers keep
// their digits exactly (beyond float64 precision too); anything with a
// fraction or exponent is read as float64 and printed without an exponent,
// so 5.0 and 5e0 both become "5".
func decimalText(n json.Number) (string, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0", nil
		}
		return s, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", fmt.Errorf("history: number %s out of range", s)
	}
	if f == 0 {
		return "0", nil // no "-0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}
