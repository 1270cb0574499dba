package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ConfChangeType is the kind of a single membership change.
type ConfChangeType uint8

// The membership changes. Promoting a learner is ConfChangeAddVoter on a learner.
const (
	ConfChangeAddVoter ConfChangeType = iota + 1
	ConfChangeAddLearner
	ConfChangeRemove
)

func (t ConfChangeType) String() string {
	switch t {
	case ConfChangeAddVoter:
		return "add-voter"
	case ConfChangeAddLearner:
		return "add-learner"
	case ConfChangeRemove:
		return "remove"
	}
	return fmt.Sprintf("ConfChangeType(%d)", uint8(t))
}

// ConfChange changes the membership of one node. Context is opaque to raft: it travels
// with the change in its entry, for the application's own record of the membership (rsm
// puts its member table there: names and peer URLs).
type ConfChange struct {
	Type    ConfChangeType
	NodeID  uint64
	Context []byte
}

// ConfChangeEntry is the payload of an EntryConfChange: the change and the complete
// configuration that results from it. Carrying the whole configuration lets any node (also
// one that joined late and never saw the initial configuration) know the exact
// configuration at every index of its log.
type ConfChangeEntry struct {
	Change ConfChange
	State  ConfState
}

func (c ConfChangeEntry) String() string {
	return fmt.Sprintf("%s %d => %s", c.Change.Type, c.Change.NodeID, c.State)
}

// ErrBadConfChange wraps every rejected membership change.
var ErrBadConfChange = errors.New("raft: invalid conf change")

// Apply returns the configuration after cc, or an error wrapping ErrBadConfChange.
func (c ConfState) Apply(cc ConfChange) (ConfState, error) {
	if cc.NodeID == 0 {
		return ConfState{}, fmt.Errorf("%w: node id 0", ErrBadConfChange)
	}
	isVoter := slices.Contains(c.Voters, cc.NodeID)
	isLearner := slices.Contains(c.Learners, cc.NodeID)
	out := ConfState{Voters: remove(c.Voters, cc.NodeID), Learners: remove(c.Learners, cc.NodeID)}
	switch cc.Type {
	case ConfChangeAddVoter:
		if isVoter {
			return ConfState{}, fmt.Errorf("%w: %d is already a voter", ErrBadConfChange, cc.NodeID)
		}
		out.Voters = insert(out.Voters, cc.NodeID)
	case ConfChangeAddLearner:
		if isVoter || isLearner {
			return ConfState{}, fmt.Errorf("%w: %d is already a member (demotion is not supported)", ErrBadConfChange, cc.NodeID)
		}
		out.Learners = insert(out.Learners, cc.NodeID)
	case ConfChangeRemove:
		if !isVoter && !isLearner {
			return ConfState{}, fmt.Errorf("%w: %d is not a member", ErrBadConfChange, cc.NodeID)
		}
		if isVoter && len(c.Voters) == 1 {
			return ConfState{}, fmt.Errorf("%w: cannot remove the last voter", ErrBadConfChange)
		}
	default:
		return ConfState{}, fmt.Errorf("%w: unknown type %d", ErrBadConfChange, cc.Type)
	}
	return out, nil
}

func remove(ids []uint64, id uint64) []uint64 {
	out := make([]uint64, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

func insert(ids []uint64, id uint64) []uint64 {
	out := append(slices.Clone(ids), id)
	slices.Sort(out)
	return out
}

// EncodeConfChange encodes c as the Data of an EntryConfChange. A change without a
// Context has format 1 (the original one, so old logs and traces keep their bytes); one
// with a Context has format 2, which appends it, length-prefixed.
func EncodeConfChange(c ConfChangeEntry) []byte {
	format := byte(1)
	if len(c.Change.Context) > 0 {
		format = 2
	}
	b := []byte{format, byte(c.Change.Type)}
	b = binary.AppendUvarint(b, c.Change.NodeID)
	b = appendIDs(b, c.State.Voters)
	b = appendIDs(b, c.State.Learners)
	if format == 2 {
		b = binary.AppendUvarint(b, uint64(len(c.Change.Context)))
		b = append(b, c.Change.Context...)
	}
	return b
}

func appendIDs(b []byte, ids []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, id)
	}
	return b
}

// ErrBadEncoding is returned by DecodeConfChange for malformed data.
var ErrBadEncoding = errors.New("raft: malformed conf change encoding")

// DecodeConfChange decodes the Data of an EntryConfChange.
func DecodeConfChange(data []byte) (ConfChangeEntry, error) {
	if len(data) < 2 || data[0] != 1 && data[0] != 2 {
		return ConfChangeEntry{}, ErrBadEncoding
	}
	var c ConfChangeEntry
	c.Change.Type = ConfChangeType(data[1])
	d := decoder{buf: data[2:]}
	c.Change.NodeID = d.uvarint()
	c.State.Voters = d.ids()
	c.State.Learners = d.ids()
	if data[0] == 2 {
		c.Change.Context = d.bytes()
		if len(c.Change.Context) == 0 {
			d.err = true // format 2 is only written for a non-empty context
		}
	}
	if d.err || len(d.buf) != 0 {
		return ConfChangeEntry{}, ErrBadEncoding
	}
	return c, nil
}

type decoder struct {
	buf []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err || n > uint64(len(d.buf)) {
		d.err = true
		return nil
	}
	out := slices.Clone(d.buf[:n])
	d.buf = d.buf[n:]
	return out
}

func (d *decoder) ids() []uint64 {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.err = true
		return nil
	}
	var out []uint64
	for range n {
		out = append(out, d.uvarint())
	}
	return out
}

// confPoint is the configuration in force from Index on.
type confPoint struct {
	Index uint64
	State ConfState
}

// confLog tracks the configuration at each index of the log. Membership changes take effect
// as soon as their entry is appended (not when it commits), so the configuration in force is
// the one of the last conf-change entry in the log, or the snapshot's when there is none.
type confLog struct {
	points []confPoint // points[0] is the base (snapshot or bootstrap); indexes increase
}

func newConfLog(index uint64, cs ConfState) confLog {
	return confLog{points: []confPoint{{Index: index, State: cs}}}
}

func (c *confLog) current() confPoint { return c.points[len(c.points)-1] }

// truncate forgets configurations from entries at index > after (they were overwritten).
func (c *confLog) truncate(after uint64) {
	for len(c.points) > 1 && c.current().Index > after {
		c.points = c.points[:len(c.points)-1]
	}
}

// observe records the configurations carried by newly appended entries.
func (c *confLog) observe(ents []Entry) {
	for _, e := range ents {
		if e.Type != EntryConfChange {
			continue
		}
		if cc, err := DecodeConfChange(e.Data); err == nil {
			c.points = append(c.points, confPoint{Index: e.Index, State: cc.State})
		}
	}
}

// at returns the configuration in force at index i.
func (c *confLog) at(i uint64) (ConfState, error) {
	if i < c.points[0].Index {
		return ConfState{}, ErrCompacted
	}
	for k := len(c.points) - 1; k >= 0; k-- {
		if c.points[k].Index <= i {
			return c.points[k].State, nil
		}
	}
	return ConfState{}, ErrCompacted
}

// compact drops configurations that are superseded at or before index i.
func (c *confLog) compact(i uint64) {
	k := 0
	for k+1 < len(c.points) && c.points[k+1].Index <= i {
		k++
	}
	c.points = c.points[k:]
}
