package register

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/orrery/orrery/node/component"
)

// A record on disk is one cell: uvarint key length, key, uvarint counter, uvarint writer,
// one byte set flag, then the value bytes to the end.

func encodeCell(c Cell) []byte {
	b := binary.AppendUvarint(nil, uint64(len(c.Key)))
	b = append(b, c.Key...)
	b = binary.AppendUvarint(b, c.TS.Counter)
	b = binary.AppendUvarint(b, uint64(c.TS.Writer))
	if c.Val.Set {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return append(b, c.Val.S...)
}

var errShortRecord = errors.New("register: record too short")

func decodeCell(b []byte) (Cell, error) {
	var c Cell
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return c, fmt.Errorf("key length: %w", errShortRecord)
	}
	c.Key, b = string(b[w:w+int(n)]), b[w+int(n):]
	if c.TS.Counter, w = binary.Uvarint(b); w <= 0 {
		return c, fmt.Errorf("counter: %w", errShortRecord)
	}
	b = b[w:]
	writer, w := binary.Uvarint(b)
	if w <= 0 || len(b) < w+1 {
		return c, fmt.Errorf("writer: %w", errShortRecord)
	}
	c.TS.Writer, b = component.NodeID(writer), b[w:]
	switch b[0] {
	case 0:
	case 1:
		c.Val.Set = true
	default:
		return c, fmt.Errorf("register: bad set flag %d", b[0])
	}
	c.Val.S = string(b[1:])
	return c, nil
}
