package rsm

import (
	"errors"
	"fmt"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

// drive hands raft's Readies to the disk and the network. One Ready is in flight at a
// time: its writes are issued and synced, and only on Synced do its acknowledgements go out
// and Advance run (raft's durability contract). Proposals arriving meanwhile batch into the
// next Ready: that is the group commit.
//
// A Ready that needs no sync is applied before its messages go out, so that a crash point
// between the two can leave a leader that applied an entry its followers never heard more
// about: the simulator's way into the raft paper's figure 8.
func (s *Server) drive() []c.Effect {
	var effs []c.Effect
	for s.inflight == nil && s.refusing == "" && s.node.HasReady() {
		rd := s.node.Ready()
		if rd.SoftState != nil {
			effs = append(effs, s.roleChange(*rd.SoftState)...)
		}
		if rd.MustSync {
			effs = append(effs, s.sends(rd.Messages)...)
			effs = append(effs, s.persist(rd)...)
			s.syncID++
			s.inflight, s.inflightSync = &rd, s.syncID
			return append(effs, c.CrashPoint{Name: writtenPoint(rd)}, c.FaultPoint{Name: FaultSlowSync}, c.Sync{ID: s.syncID})
		}
		effs = append(effs, s.persist(rd)...)
		effs = append(effs, s.finish(rd)...)
		effs = append(effs, c.CrashPoint{Name: s.appliedPoint(rd)})
		effs = append(effs, s.sends(rd.Messages)...)
	}
	return effs
}

// persist writes a Ready's snapshot, entries and hard state to the WAL (in that order, the
// order replay needs) and into the storage raft reads.
func (s *Server) persist(rd raft.Ready) []c.Effect {
	var effs []c.Effect
	file := segmentName(s.segment)
	if !rd.Snapshot.IsEmpty() {
		effs = append(effs, c.Append{File: file, Record: encodeSnapshot(rd.Snapshot)})
		if err := applySnapshot(s.ms, rd.Snapshot); err != nil {
			panic(fmt.Sprintf("rsm: install snapshot %d: %v", rd.Snapshot.Metadata.Index, err))
		}
		s.restore(rd.Snapshot)
		effs = append(effs, c.Probe{Name: ProbeSnapshotInstalled}, c.Observe{Kind: "snapshot", Value: fmt.Sprintf("%d installed", rd.Snapshot.Metadata.Index)})
	}
	if len(rd.Entries) > 0 {
		effs = append(effs, c.Append{File: file, Record: encodeEntries(rd.Entries)})
		if err := s.ms.Append(rd.Entries); err != nil {
			panic(fmt.Sprintf("rsm: append: %v", err))
		}
	}
	if !rd.HardState.IsEmpty() {
		effs = append(effs, c.Append{File: file, Record: encodeHardState(rd.HardState)})
		s.ms.SetHardState(rd.HardState)
	}
	return effs
}

// synced completes the Ready in flight (and a WAL rotation) once their sync is done.
func (s *Server) synced(id uint64) []c.Effect {
	var effs []c.Effect
	if s.rotateSync != 0 && id >= s.rotateSync {
		for _, f := range s.oldSegments {
			effs = append(effs, c.Remove{File: f})
		}
		s.oldSegments, s.rotateSync = nil, 0
	}
	if s.inflight != nil && id >= s.inflightSync {
		rd := *s.inflight
		s.inflight = nil
		effs = append(effs, c.CrashPoint{Name: "rsm.synced-not-acknowledged"})
		effs = append(effs, s.finish(rd)...)
	}
	return effs
}

// finish does what must wait for durability: acknowledgements, applying, reads, Advance.
func (s *Server) finish(rd raft.Ready) []c.Effect {
	effs := s.sends(rd.MessagesAfterSync)
	for _, e := range rd.CommittedEntries {
		effs = append(effs, s.apply(e)...)
	}
	effs = append(effs, s.pushes()...)
	for _, rs := range rd.ReadStates {
		s.readIndexed(rs)
	}
	effs = append(effs, s.serveReads()...)
	if err := s.node.Advance(); err != nil {
		panic(fmt.Sprintf("rsm: advance: %v", err))
	}
	return append(effs, s.maybeSnapshot()...)
}

func (s *Server) sends(msgs []raft.Message) []c.Effect {
	effs := make([]c.Effect, 0, len(msgs))
	for _, m := range msgs {
		effs = append(effs, c.Send{To: c.NodeID(m.To), Msg: peer{M: m}})
	}
	return effs
}

// apply executes one committed entry and answers the client waiting for it here.
func (s *Server) apply(e raft.Entry) []c.Effect {
	if e.Index <= s.applied {
		return nil // covered by a snapshot installed in the same Ready
	}
	if s.removedAt != 0 {
		return nil // removed: what the cluster commits after that is not this server's
	}
	s.applied = e.Index
	if e.Type != raft.EntryNormal || len(e.Data) == 0 {
		// Leaders' empty entries and membership changes are observed too: a committed
		// entry that is later replaced by one of them must not go unnoticed.
		effs := []c.Effect{c.Observe{Kind: "apply", Value: fmt.Sprintf("%d t=%d type=%d %q", e.Index, e.Term, e.Type, e.Data)}}
		if e.Type == raft.EntryConfChange {
			effs = append(effs, s.applyConfChange(e)...)
		}
		return effs
	}
	req, err := decodeProposal(e.Data)
	if err != nil {
		panic(fmt.Sprintf("rsm: entry %d: %v", e.Index, err))
	}
	result, d := s.sess.lookup(req.Client, req.Seq)
	switch {
	case req.Seq == 0: // no session: the leader's own proposals, one-shot real-host requests
		result, d = s.app.Apply(req.Payload), dupNew
	case d == dupNew:
		result = s.app.Apply(req.Payload)
		s.sess.record(req.Client, req.Seq, req.Ack, result)
	default:
		s.sess.ack(req.Client, req.Ack)
	}
	effs := []c.Effect{c.Observe{Kind: "apply", Value: fmt.Sprintf("%d t=%d c=%d s=%d %q dup=%v", e.Index, e.Term, req.Client, req.Seq, req.Payload, d != dupNew)}}
	if n, ok := s.app.(Noter); ok {
		for _, note := range n.Notes() {
			effs = append(effs, c.Observe{Kind: note.Kind, Value: note.Value})
		}
	}
	key := [2]uint64{req.Client, req.Seq}
	if to, ok := s.waiting[key]; ok && d != dupStale {
		delete(s.waiting, key)
		effs = append(effs, c.Send{To: to, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: result}})
	}
	return effs
}

func (s *Server) readIndexed(rs raft.ReadState) {
	ctx, ok := s.readContextKey(rs.RequestCtx)
	if !ok {
		return
	}
	if w, ok := s.readsAsked[ctx]; ok {
		delete(s.readsAsked, ctx)
		w.index = rs.Index
		s.readsReady = append(s.readsReady, w)
	}
}

// serveReads answers the reads whose read index has been applied.
func (s *Server) serveReads() []c.Effect {
	var effs []c.Effect
	kept := s.readsReady[:0]
	for _, w := range s.readsReady {
		if w.index > s.applied {
			kept = append(kept, w)
			continue
		}
		result := s.app.Read(w.req.Payload)
		if w.req.Conf {
			result = encodeConfResult(s.members, nil)
		}
		effs = append(effs, c.Send{To: w.from, Msg: Reply{Client: w.req.Client, Seq: w.req.Seq, Result: result}})
	}
	s.readsReady = kept
	return effs
}

// maybeSnapshot snapshots the applied state every SnapshotEvery entries, compacts the log
// and rotates the WAL: the new segment starts with the snapshot, the hard state and the
// entries still in the log; the old segments go once it is synced.
func (s *Server) maybeSnapshot() []c.Effect {
	if s.cfg.SnapshotEvery == 0 || s.applied < s.snapIndex+s.cfg.SnapshotEvery {
		return nil
	}
	cs, err := s.node.ConfStateAt(s.applied)
	if errors.Is(err, raft.ErrCompacted) {
		// Raft has already taken in a newer snapshot from the leader (it arrived while
		// this Ready waited for its sync); that snapshot's Ready comes next and replaces
		// what we would save here.
		return nil
	}
	if err != nil {
		panic(fmt.Sprintf("rsm: conf state at %d: %v", s.applied, err))
	}
	snap, err := s.ms.CreateSnapshot(s.applied, cs, s.snapshotData())
	if err != nil {
		panic(fmt.Sprintf("rsm: snapshot at %d: %v", s.applied, err))
	}
	s.snapIndex = s.applied
	if s.applied > s.cfg.Keep {
		if err := s.ms.Compact(s.applied - s.cfg.Keep); err != nil && err != raft.ErrCompacted {
			panic(fmt.Sprintf("rsm: compact: %v", err))
		}
	}
	return append(s.rotate(snap), c.Probe{Name: ProbeWALRotated}, c.Observe{Kind: "snapshot", Value: fmt.Sprintf("%d taken", snap.Metadata.Index)})
}

// rotate starts a new WAL segment holding the whole durable state — the snapshot (if
// any), every entry still in the log and the hard state — and removes the older segments
// once it is synced. Every segment therefore starts with a complete base, and a segment is
// only ever removed in favour of a synced one that covers it.
func (s *Server) rotate(snap raft.Snapshot) []c.Effect {
	for n := s.lowSegment; n <= s.segment; n++ {
		s.oldSegments = append(s.oldSegments, segmentName(n))
	}
	s.segment++
	s.lowSegment = s.segment
	file := segmentName(s.segment)
	var effs []c.Effect
	if !snap.IsEmpty() {
		effs = append(effs, c.Append{File: file, Record: encodeSnapshot(snap)})
	}
	first, _ := s.ms.FirstIndex()
	last, _ := s.ms.LastIndex()
	if last >= first {
		ents, err := s.ms.Entries(first, last+1, 1<<62)
		if err != nil {
			panic(fmt.Sprintf("rsm: entries for rotation: %v", err))
		}
		effs = append(effs, c.Append{File: file, Record: encodeEntries(ents)})
	}
	if hs, _, _ := s.ms.InitialState(); !hs.IsEmpty() {
		effs = append(effs, c.Append{File: file, Record: encodeHardState(hs)})
	}
	s.syncID++
	s.rotateSync = s.syncID
	return append(effs, c.Sync{ID: s.syncID})
}

// roleChange tracks the leader and tells observers (and the simulator's nemesis, which
// likes to hit leaders) when this node starts or stops leading.
func (s *Server) roleChange(ss raft.SoftState) []c.Effect {
	was := s.lead == uint64(s.cfg.ID)
	s.lead = ss.Lead
	if is := ss.Role == raft.RoleLeader; is != was {
		if t, ok := s.app.(Timed); ok {
			t.Lead(is)
		}
		return []c.Effect{c.RoleChanged{Leader: is}}
	}
	return nil
}

// writtenPoint names the crash point between a Ready's writes and their sync; a Ready that
// grants a vote gets a point of its own, so that the simulator can aim at "voted, then
// died before the vote was durable".
func writtenPoint(rd raft.Ready) string {
	for _, ms := range [][]raft.Message{rd.Messages, rd.MessagesAfterSync} {
		for _, m := range ms {
			if (m.Type == raft.MsgVoteResp || m.Type == raft.MsgPreVoteResp) && !m.Reject {
				return "rsm.voted-not-synced"
			}
		}
	}
	return "rsm.written-not-synced"
}

// appliedPoint names the crash point between applying committed entries and sending the
// Ready's messages; a leader that just applied gets its own point ("committed, then died
// before the followers heard more": the raft paper's figure 8 starts there).
func (s *Server) appliedPoint(rd raft.Ready) string {
	if len(rd.CommittedEntries) > 0 && s.lead == uint64(s.cfg.ID) {
		return "rsm.leader-applied-not-sent"
	}
	return "rsm.applied-not-sent"
}
