package workload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/orrery/orrery/node/component"
)

// regApp is a register map replicated through raft: put, cas and get on string keys.
// Commands are NUL-separated fields: "put\x00k\x00v", "cas\x00k\x00old\x00new" (old may be
// the empty-field-with-flag form for "absent"), "get\x00k".
type regApp struct {
	m map[string]string
}

func newRegApp() *regApp { return &regApp{m: map[string]string{}} }

func fields(b []byte) []string {
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func join(fs ...string) []byte {
	var b []byte
	for i, f := range fs {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, f...)
	}
	return b
}

// Apply returns "ok", "fail" (cas mismatch) or a read result.
func (a *regApp) Apply(cmd []byte) []byte {
	f := fields(cmd)
	switch f[0] {
	case "put":
		a.m[f[1]] = f[2]
		return []byte("ok")
	case "cas":
		cur, ok := a.m[f[1]]
		if !ok || cur != f[2] {
			return []byte("fail")
		}
		a.m[f[1]] = f[3]
		return []byte("ok")
	}
	return []byte("bad")
}

// Read answers "get": "=value" when present, "-" when absent.
func (a *regApp) Read(q []byte) []byte {
	f := fields(q)
	if v, ok := a.m[f[1]]; ok {
		return append([]byte("="), v...)
	}
	return []byte("-")
}

func (a *regApp) Snapshot() []byte {
	var b []byte
	keys := make([]string, 0, len(a.m))
	for k := range a.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(a.m[k])))
		b = append(b, a.m[k]...)
	}
	return b
}

func (a *regApp) Restore(b []byte) error {
	a.m = map[string]string{}
	for len(b) > 0 {
		k, rest, err := takeBytes(b)
		if err != nil {
			return err
		}
		v, rest, err := takeBytes(rest)
		if err != nil {
			return err
		}
		a.m[string(k)] = string(v)
		b = rest
	}
	return nil
}

func takeBytes(b []byte) ([]byte, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, fmt.Errorf("register snapshot: truncated")
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}

// regCodec maps register operations to regApp commands.
type regCodec struct{}

func (regCodec) Encode(op component.Op) ([]byte, bool, bool) {
	switch op.F {
	case "get":
		return join("get", op.Key), true, true
	case "put":
		v, ok := op.Value.Str()
		return join("put", op.Key, v), false, ok
	case "cas":
		old, nw, ok := casStrings(op)
		return join("cas", op.Key, old, nw), false, ok
	}
	return nil, false, false
}

func (regCodec) Decode(op component.Op, result []byte) (component.Outcome, component.Value) {
	switch {
	case op.F == "get" && string(result) == "-":
		return component.OK, component.Null()
	case op.F == "get" && len(result) > 0 && result[0] == '=':
		return component.OK, component.Str(string(result[1:]))
	case string(result) == "ok":
		return component.OK, op.Value
	case string(result) == "fail":
		return component.Fail, op.Value
	}
	panic(fmt.Sprintf("register codec: unexpected result %q for %s", result, op))
}

// logApp is an append-only log: "append" returns the entry's position.
type logApp struct{ n uint64 }

func (a *logApp) Apply(cmd []byte) []byte {
	a.n++
	return []byte(strconv.FormatUint(a.n, 10))
}
func (a *logApp) Read([]byte) []byte { return []byte(strconv.FormatUint(a.n, 10)) }
func (a *logApp) Snapshot() []byte   { return binary.AppendUvarint(nil, a.n) }
func (a *logApp) Restore(b []byte) error {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return fmt.Errorf("log snapshot: malformed")
	}
	a.n = n
	return nil
}

// casStrings reads a cas operation's [expected, new] pair of strings.
func casStrings(op component.Op) (old, nw string, ok bool) {
	pair, ok := op.Value.List()
	if !ok || len(pair) != 2 {
		return "", "", false
	}
	old, ok1 := pair[0].Str()
	nw, ok2 := pair[1].Str()
	return old, nw, ok1 && ok2
}

// serverIDs returns the IDs of a world's n servers: 1..n.
func serverIDs(n int) []component.NodeID {
	ids := make([]component.NodeID, n)
	for i := range ids {
		ids[i] = component.NodeID(i + 1)
	}
	return ids
}
