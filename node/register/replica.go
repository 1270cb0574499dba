package register

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	c "github.com/orrery/orrery/node/component"
)

// retryEvery is how often recovery re-asks peers that have not answered.
const retryEvery = 20 * time.Millisecond

const timerRecovery = 1

// Replica is one ABD server. Build it with NewReplica; drive it through Handle.
type Replica struct {
	id    c.NodeID
	peers []c.NodeID // every replica, self included, in ID order
	r     *rand.Rand
	cells map[string]Cell
	file  string // the log file appends go to

	syncID       uint64     // last Sync issued
	syncDone     uint64     // highest Sync completed
	waiting      []ackAfter // acks held until a sync covers them
	recovery     *recovery  // non-nil while rebuilding lost state
	oldFiles     []string   // files superseded by a recovery snapshot, removed once it is synced
	snapshotSync uint64     // the sync that makes the recovery snapshot durable
}

type ackAfter struct {
	sync uint64
	to   c.NodeID
	req  ReqID
}

type recovery struct {
	nonce   uint64
	answers map[c.NodeID]bool
	merged  map[string]Cell
}

// NewReplica returns replica id of a group made of peers.
func NewReplica(id c.NodeID, peers []c.NodeID, r *rand.Rand) *Replica {
	return &Replica{id: id, peers: peers, r: r, cells: map[string]Cell{}}
}

// Handle implements component.Component.
func (s *Replica) Handle(_ time.Duration, in c.Input) []c.Effect {
	switch in := in.(type) {
	case c.Start:
		return s.start(in.Disk)
	case c.Receive:
		return s.receive(in.From, in.Msg)
	case c.Synced:
		return s.synced(in)
	case c.TimerFired:
		if in.ID == timerRecovery && s.recovery != nil {
			return s.askState()
		}
	}
	return nil
}

// start rebuilds the cells from every log file. Files are numbered; appends go to a file
// numbered one past the highest found, so a recovery snapshot never mixes with the log it
// replaces.
func (s *Replica) start(d c.Recovery) []c.Effect {
	highest := 0
	names := make([]string, 0, len(d.Files))
	for name := range d.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if n, err := strconv.Atoi(strings.TrimPrefix(name, "log-")); err == nil && n > highest {
			highest = n
		}
		for _, rec := range d.Files[name] {
			cell, err := decodeCell(rec)
			if err != nil {
				panic(fmt.Sprintf("register: %s: a record that passed its checksum does not decode: %v", name, err))
			}
			s.adopt(cell)
		}
	}
	s.file = fmt.Sprintf("log-%d", highest+1)
	if len(d.Corrupt) == 0 {
		return nil
	}
	s.oldFiles = names
	s.recovery = &recovery{nonce: s.r.Uint64(), answers: map[c.NodeID]bool{}, merged: map[string]Cell{}}
	return s.askState()
}

// adopt keeps cell if it is newer than what the replica holds for its key.
func (s *Replica) adopt(cell Cell) bool {
	if cur, ok := s.cells[cell.Key]; ok && !cur.TS.Less(cell.TS) {
		return false
	}
	s.cells[cell.Key] = cell
	return true
}

func (s *Replica) receive(from c.NodeID, msg c.Message) []c.Effect {
	switch m := msg.(type) {
	case StateReply:
		return s.stateReply(from, m)
	}
	if s.recovery != nil {
		return nil // not trustworthy until recovered; clients will retry elsewhere
	}
	switch m := msg.(type) {
	case Query:
		cell := s.cells[m.Key]
		cell.Key = m.Key
		return []c.Effect{c.Send{To: from, Msg: QueryReply{Req: m.Req, Cell: cell}}}
	case Store:
		return s.store(from, m)
	case StateRequest:
		return []c.Effect{c.Send{To: from, Msg: StateReply{Nonce: m.Nonce, Cells: s.sorted(s.cells)}}}
	}
	return nil
}

// store adopts a newer cell and acknowledges once the replica durably holds that cell or a
// newer one: even a store that changes nothing waits for the sync covering the newer cell it
// lost to, which may still be in flight.
func (s *Replica) store(from c.NodeID, m Store) []c.Effect {
	var effs []c.Effect
	if s.adopt(m.Cell) {
		s.syncID++
		effs = append(effs, c.Append{File: s.file, Record: encodeCell(m.Cell)}, c.Sync{ID: s.syncID})
	}
	s.waiting = append(s.waiting, ackAfter{sync: s.syncID, to: from, req: m.Req})
	return append(effs, s.release()...)
}

// release sends the acks whose sync has completed. Syncs may complete out of order; a
// completed sync covers every write issued before it.
func (s *Replica) release() []c.Effect {
	var effs []c.Effect
	kept := s.waiting[:0]
	for _, a := range s.waiting {
		if a.sync <= s.syncDone {
			effs = append(effs, c.Send{To: a.to, Msg: StoreAck{Req: a.req}})
		} else {
			kept = append(kept, a)
		}
	}
	s.waiting = kept
	return effs
}

func (s *Replica) synced(in c.Synced) []c.Effect {
	if in.Err != nil {
		return []c.Effect{c.Halt{Reason: fmt.Sprintf("sync %d: %v", in.ID, in.Err)}}
	}
	s.syncDone = max(s.syncDone, in.ID)
	effs := s.release()
	if s.snapshotSync != 0 && s.syncDone >= s.snapshotSync {
		effs = append(effs, s.finishRecovery()...)
	}
	return effs
}

func (s *Replica) sorted(cells map[string]Cell) []Cell {
	keys := make([]string, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Cell, len(keys))
	for i, k := range keys {
		out[i] = cells[k]
	}
	return out
}

// askState (re)sends the recovery request to every peer that has not answered.
func (s *Replica) askState() []c.Effect {
	var effs []c.Effect
	for _, p := range s.peers {
		if p != s.id && !s.recovery.answers[p] {
			effs = append(effs, c.Send{To: p, Msg: StateRequest{Nonce: s.recovery.nonce}})
		}
	}
	return append(effs, c.SetTimer{ID: timerRecovery, After: retryEvery})
}

// stateReply merges a peer's state. Once a majority of the other replicas answered, every
// write acknowledged by a majority is among the answers (that majority and ours overlap even
// without us), so the merge is at least as new as anything we ever acknowledged. The merge is
// written to a fresh file and synced before the replica serves again.
func (s *Replica) stateReply(from c.NodeID, m StateReply) []c.Effect {
	rec := s.recovery
	if rec == nil || m.Nonce != rec.nonce || rec.answers[from] || s.snapshotSync != 0 {
		return nil
	}
	rec.answers[from] = true
	for _, cell := range m.Cells {
		if cur, ok := rec.merged[cell.Key]; !ok || cur.TS.Less(cell.TS) {
			rec.merged[cell.Key] = cell
		}
	}
	if len(rec.answers) < len(s.peers)/2+1 {
		return nil
	}
	for _, cell := range s.sorted(rec.merged) {
		s.adopt(cell)
	}
	var effs []c.Effect
	for _, cell := range s.sorted(s.cells) {
		effs = append(effs, c.Append{File: s.file, Record: encodeCell(cell)})
	}
	s.syncID++
	s.snapshotSync = s.syncID
	return append(effs, c.Sync{ID: s.syncID}, c.CancelTimer{ID: timerRecovery})
}

// finishRecovery removes the superseded (corrupt) files and starts serving.
func (s *Replica) finishRecovery() []c.Effect {
	var effs []c.Effect
	for _, f := range s.oldFiles {
		effs = append(effs, c.Remove{File: f})
	}
	s.recovery, s.oldFiles, s.snapshotSync = nil, nil, 0
	return effs
}
