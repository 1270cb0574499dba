package rsm

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

// The write-ahead log is a sequence of segment files "wal-<n>", each a sequence of records:
// a hard state, a batch of entries, or a snapshot. Replaying every segment in order into a
// MemoryStorage rebuilds the durable raft state. After a snapshot the node starts a new
// segment that opens with the snapshot, the hard state and the entries after it, syncs it,
// and only then removes the older segments, so a crash at any point leaves a log that
// replays to the same state.

const (
	recHardState byte = 1
	recEntries   byte = 2
	recSnapshot  byte = 3
)

var errBadRecord = errors.New("rsm: malformed wal record")

func segmentName(n int) string { return "wal-" + strconv.Itoa(n) }

func segmentNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "wal-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func encodeHardState(hs raft.HardState) []byte {
	b := []byte{recHardState}
	b = binary.AppendUvarint(b, hs.Term)
	b = binary.AppendUvarint(b, hs.Vote)
	return binary.AppendUvarint(b, hs.Commit)
}

func encodeEntries(ents []raft.Entry) []byte {
	b := []byte{recEntries}
	b = binary.AppendUvarint(b, uint64(len(ents)))
	for _, e := range ents {
		b = binary.AppendUvarint(b, e.Term)
		b = binary.AppendUvarint(b, e.Index)
		b = append(b, byte(e.Type))
		b = binary.AppendUvarint(b, uint64(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

func encodeSnapshot(s raft.Snapshot) []byte {
	b := []byte{recSnapshot}
	b = binary.AppendUvarint(b, s.Metadata.Index)
	b = binary.AppendUvarint(b, s.Metadata.Term)
	b = appendIDs(b, s.Metadata.ConfState.Voters)
	b = appendIDs(b, s.Metadata.ConfState.Learners)
	b = binary.AppendUvarint(b, uint64(len(s.Data)))
	return append(b, s.Data...)
}

func appendIDs(b []byte, ids []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, id)
	}
	return b
}

// reader decodes one record; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadRecord
		return nil
	}
	out := slices.Clone(r.b[:n])
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errBadRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) ids() []uint64 {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errBadRecord
		return nil
	}
	var out []uint64
	for range n {
		out = append(out, r.uvarint())
	}
	return out
}

// replay applies one record to the storage.
func replay(ms *raft.MemoryStorage, rec []byte) error {
	r := &reader{b: rec}
	switch r.byte() {
	case recHardState:
		hs := raft.HardState{Term: r.uvarint(), Vote: r.uvarint(), Commit: r.uvarint()}
		if r.err == nil {
			ms.SetHardState(hs)
		}
	case recEntries:
		n := r.uvarint()
		if n > uint64(len(r.b)) { // every entry takes at least one byte: a lying count
			return fmt.Errorf("%w: %d entries in %d bytes", errBadRecord, n, len(r.b))
		}
		ents := make([]raft.Entry, n)
		for i := range ents {
			ents[i] = raft.Entry{Term: r.uvarint(), Index: r.uvarint(), Type: raft.EntryType(r.byte()), Data: r.bytes()}
		}
		if r.err == nil {
			return ms.Append(ents)
		}
	case recSnapshot:
		s := raft.Snapshot{Metadata: raft.SnapshotMetadata{Index: r.uvarint(), Term: r.uvarint()}}
		s.Metadata.ConfState.Voters, s.Metadata.ConfState.Learners = r.ids(), r.ids()
		s.Data = r.bytes()
		if r.err == nil {
			return applySnapshot(ms, s)
		}
	default:
		r.err = errBadRecord
	}
	if r.err != nil {
		return fmt.Errorf("%w (%d bytes)", r.err, len(rec))
	}
	return nil
}

// applySnapshot installs a snapshot record. When the log already holds the snapshot's
// entry (a snapshot this node took of its own applied state) the entries after it stay;
// otherwise (a snapshot the leader sent to replace a log that did not match) the log is
// replaced. Raft makes the same choice when it receives a snapshot, so replay reproduces
// the state the node had before the crash.
func applySnapshot(ms *raft.MemoryStorage, s raft.Snapshot) error {
	cur, _ := ms.Snapshot()
	if s.Metadata.Index <= cur.Metadata.Index {
		return nil
	}
	if t, err := ms.Term(s.Metadata.Index); err == nil && t == s.Metadata.Term {
		if _, err := ms.CreateSnapshot(s.Metadata.Index, s.Metadata.ConfState, s.Data); err != nil {
			return err
		}
		return ms.Compact(s.Metadata.Index)
	}
	return ms.ApplySnapshot(s)
}

// BootstrapRecords returns the WAL records of a member of a new cluster whose state
// starts from an application snapshot (etcdutl's snapshot restore): a raft snapshot at
// index 1 of term 1 naming the voters, with their member table (members, optional: their
// names and peer URLs), empty sessions, and the matching hard state. Write them to the file
// BootstrapFile of an empty data dir.
func BootstrapRecords(appState []byte, voters []c.NodeID, members []Member) [][]byte {
	ids := make([]uint64, len(voters))
	for i, v := range voters {
		ids[i] = uint64(v)
	}
	slices.Sort(ids)
	s := Server{members: cloneMembers(members), sess: sessions{}, app: rawState(appState)}
	slices.SortFunc(s.members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	snap := raft.Snapshot{
		Data:     s.snapshotData(),
		Metadata: raft.SnapshotMetadata{Index: 1, Term: 1, ConfState: raft.ConfState{Voters: ids}},
	}
	return [][]byte{encodeSnapshot(snap), encodeHardState(raft.HardState{Term: 1, Commit: 1})}
}

// BootstrapFile is the WAL segment BootstrapRecords belong in.
var BootstrapFile = segmentName(1)

// rawState is an application state already in its snapshot form.
type rawState []byte

func (r rawState) Apply([]byte) []byte       { return nil }
func (r rawState) Read([]byte) []byte        { return nil }
func (r rawState) Snapshot() []byte          { return r }
func (r rawState) Restore(data []byte) error { return nil }
