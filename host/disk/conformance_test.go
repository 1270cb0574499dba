package disk

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/component"
)

// The component contract's disk as scripts: each phase's effects are executed as a driver
// would, then the process crashes (Close without Sync) and restarts. After each restart the
// recovered files must be what a naive model holds after some prefix of the writes issued
// so far, a prefix that includes every write issued before a completed Sync. That is all
// the contract promises, and the simulator's disk keeps exactly that. This Disk is
// stricter, and the test says so: it never keeps a write that was not synced.
func TestConformance(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	tests := []struct {
		name   string
		phases [][]component.Effect
		want   map[string][][]byte // after the last restart
	}{{
		name:   "synced appends survive a restart",
		phases: [][]component.Effect{{app("log", "a"), app("log", "b"), component.Sync{ID: 1}}},
		want:   map[string][][]byte{"log": recs("a", "b")},
	}, {
		name:   "unsynced appends may be lost, synced ones stay",
		phases: [][]component.Effect{{app("log", "a"), component.Sync{ID: 1}, app("log", "b"), app("log", "c")}},
		want:   map[string][][]byte{"log": recs("a")},
	}, {
		name: "remove is durable after sync",
		phases: [][]component.Effect{
			{app("log", "a"), app("snap", "s"), component.Sync{ID: 1}},
			{component.Remove{File: "log"}, component.Sync{ID: 2}},
		},
		want: map[string][][]byte{"snap": recs("s")},
	}, {
		name:   "an unsynced remove may be lost",
		phases: [][]component.Effect{{app("log", "a"), component.Sync{ID: 1}, component.Remove{File: "log"}}},
		want:   map[string][][]byte{"log": recs("a")},
	}, {
		name: "remove then append in one sync starts a new file",
		phases: [][]component.Effect{
			{app("log", "a"), app("log", "b"), component.Sync{ID: 1}},
			{component.Remove{File: "log"}, app("log", "c"), component.Remove{File: "none"}, component.Sync{ID: 1}},
		},
		want: map[string][][]byte{"log": recs("c")},
	}, {
		name:   "order is preserved within each file",
		phases: [][]component.Effect{append(interleave(3, 100), component.Sync{ID: 7})},
		want:   interleaved(3, 100),
	}, {
		name: "appends after a restart continue the file",
		phases: [][]component.Effect{
			{app("log", "a"), component.Sync{ID: 1}, app("log", "lost")},
			{app("log", "b"), component.Sync{ID: 1}},
			{component.Sync{ID: 2}},
			{app("log", "c"), component.Sync{ID: 3}, component.Sync{ID: 4}},
		},
		want: map[string][][]byte{"log": recs("a", "b", "c")},
	}, {
		name: "any name, any record",
		phases: [][]component.Effect{{
			app("", ""), app("a/b", "x"), app("ünï", "y"), app("nul\x00", "z"),
			component.Append{File: "big", Record: big}, component.Sync{ID: 1},
		}},
		want: map[string][][]byte{"": recs(""), "a/b": recs("x"), "ünï": recs("y"), "nul\x00": recs("z"), "big": {big}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t, t.TempDir())
			m := &model{durable: map[string][][]byte{}}
			for i, phase := range tt.phases {
				synced := drive(d, phase)
				assert.Equal(t, syncIDs(phase), synced, "phase %d: one Synced per Sync, in order", i)
				m.issue(phase)
				var got component.Recovery
				d, got = reopen(t, d)
				k := m.crash(got.Files)
				require.GreaterOrEqual(t, k, 0, "phase %d: recovered %v is no prefix of the writes; durable %v", i, got.Files, m.durable)
				assert.Zero(t, k, "phase %d: this Disk should keep no unsynced write", i)
				assert.Empty(t, got.Corrupt)
				assert.Zero(t, got.Torn)
			}
			assert.Equal(t, tt.want, m.durable)
		})
	}
}

// drive executes effects the way a host driver does and returns the IDs it reported
// Synced without error.
func drive(d *Disk, effs []component.Effect) []uint64 {
	var ids []uint64
	for _, e := range effs {
		switch e := e.(type) {
		case component.Append:
			d.Append(e.File, e.Record)
		case component.Remove:
			d.Remove(e.File)
		case component.Sync:
			if d.Sync() == nil {
				ids = append(ids, e.ID)
			}
		}
	}
	return ids
}

// model is the contract's disk at its most naive: the durable files, and the writes issued
// since the last Sync.
type model struct {
	durable map[string][][]byte
	pending []component.Effect
}

func (m *model) issue(effs []component.Effect) {
	for _, e := range effs {
		if _, ok := e.(component.Sync); ok {
			m.durable, m.pending = m.after(len(m.pending)), nil
		} else {
			m.pending = append(m.pending, e)
		}
	}
}

// crash finds how many unsynced writes the recovered files kept, makes that the durable
// state, and returns it; -1 if no prefix of the writes matches.
func (m *model) crash(got map[string][][]byte) int {
	defer func() { m.pending = nil }()
	for k := range len(m.pending) + 1 {
		if s := m.after(k); equalFiles(s, got) {
			m.durable = s
			return k
		}
	}
	return -1
}

// after is the durable state with the first k pending writes applied.
func (m *model) after(k int) map[string][][]byte {
	s := maps.Clone(m.durable)
	for _, e := range m.pending[:k] {
		switch e := e.(type) {
		case component.Append:
			s[e.File] = append(slices.Clip(s[e.File]), e.Record)
		case component.Remove:
			delete(s, e.File)
		}
	}
	return s
}

func equalFiles(a, b map[string][][]byte) bool {
	return maps.EqualFunc(a, b, func(x, y [][]byte) bool { return slices.EqualFunc(x, y, bytes.Equal) })
}

func syncIDs(effs []component.Effect) []uint64 {
	var ids []uint64
	for _, e := range effs {
		if s, ok := e.(component.Sync); ok {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func app(file, rec string) component.Append { return component.Append{File: file, Record: []byte(rec)} }

// interleave appends n records round-robin over files f0..f(files-1).
func interleave(files, n int) []component.Effect {
	var effs []component.Effect
	for i := range n {
		effs = append(effs, app(fmt.Sprintf("f%d", i%files), fmt.Sprintf("r%03d", i)))
	}
	return effs
}

func interleaved(files, n int) map[string][][]byte {
	want := map[string][][]byte{}
	for _, e := range interleave(files, n) {
		a := e.(component.Append)
		want[a.File] = append(want[a.File], a.Record)
	}
	return want
}
