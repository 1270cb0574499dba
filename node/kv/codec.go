package kv

import (
	"encoding/binary"
	"fmt"
)

// The binary encodings (commands, snapshots) are built from a few primitives: unsigned and
// zigzag varints, length-prefixed byte strings, and flag bytes. A decoder keeps the first
// error and returns zero values afterwards, so decoding functions read straight through
// and check once at the end.

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) byte(v byte)      { e.b = append(e.b, v) }

func (e *encoder) bytes(v []byte) {
	e.uvarint(uint64(len(v)))
	e.b = append(e.b, v...)
}

// flags packs booleans into one byte, the first in bit 0.
func (e *encoder) flags(vs ...bool) {
	var f byte
	for i, v := range vs {
		if v {
			f |= 1 << i
		}
	}
	e.byte(f)
}

type decoder struct {
	b     []byte
	off   int
	err   error
	depth int // txn nesting, bounded by maxTxnDepth
}

// maxTxnDepth bounds txn nesting on decode, so that hostile input cannot exhaust the stack.
// MaxTxnOps bounds real nesting far lower.
const maxTxnDepth = 256

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", ErrMalformed, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) rest() int { return len(d.b) - d.off }

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.badVarint(n)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.badVarint(n)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) badVarint(n int) {
	if n == 0 {
		d.fail("truncated varint")
	} else {
		d.fail("varint overflows 64 bits")
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.rest() < 1 {
		d.fail("truncated")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

// bytes reads a byte string into a fresh slice; an empty one decodes as nil.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.rest()) {
		d.fail("byte string of %d bytes overruns the input", n)
		return nil
	}
	if n == 0 {
		return nil
	}
	v := append([]byte(nil), d.b[d.off:d.off+int(n)]...)
	d.off += int(n)
	return v
}

// flags reads a flag byte holding n booleans; other bits set are an error.
func (d *decoder) flags(n int) []bool {
	f := d.byte()
	if f>>n != 0 {
		d.fail("unknown flag bits %#x", f)
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = f&(1<<i) != 0
	}
	return out
}

// count reads a list length; each element takes at least one byte, so a length above the
// bytes left is malformed (and cannot make us allocate a huge list).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(d.rest()) {
		d.fail("list of %d elements overruns the input", n)
		return 0
	}
	return int(n)
}

// enum reads a byte that must be at most hi.
func (d *decoder) enum(what string, hi byte) byte {
	v := d.byte()
	if v > hi {
		d.fail("unknown %s %d", what, v)
	}
	return v
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && d.rest() != 0 {
		d.fail("%d trailing bytes", d.rest())
	}
	return d.err
}
