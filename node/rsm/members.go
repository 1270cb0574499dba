package rsm

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
)

// Member is one entry of the replicated member table: raft's configuration plus what a
// driver needs to reach and show a member. Name is empty for a member that was added by
// ID and URL only (etcd's MemberAdd), until it is known by other means.
type Member struct {
	ID       uint64
	Name     string
	PeerURLs []string
	Learner  bool
}

func (m Member) String() string {
	s := fmt.Sprintf("%d=%s%v", m.ID, m.Name, m.PeerURLs)
	if m.Learner {
		s += "(learner)"
	}
	return s
}

// Membership errors. They are definite: the change was not proposed.
var (
	ErrNotLeader          = errors.New("rsm: not the leader")
	ErrConfChangePending  = errors.New("rsm: another membership change is in progress")
	ErrMemberExists       = errors.New("rsm: member ID exists")
	ErrPeerURLExists      = errors.New("rsm: peer URL exists")
	ErrMemberNotFound     = errors.New("rsm: member not found")
	ErrMemberNotLearner   = errors.New("rsm: can only promote a learner")
	ErrLearnerNotReady    = errors.New("rsm: learner is not in sync with the leader")
	errConfChangeRejected = errors.New("rsm: membership change rejected")
)

// confErrors numbers the errors of a conf-change result on the wire (0 is success).
var confErrors = []error{ErrNotLeader, ErrConfChangePending, ErrMemberExists, ErrPeerURLExists,
	ErrMemberNotFound, ErrMemberNotLearner, ErrLearnerNotReady, errConfChangeRejected}

// learnerReady is etcd's rule for promotion: the learner's log matches at least 90% of the
// leader's.
func learnerReady(match, last uint64) bool { return match*10 >= last*9 }

// Members returns the replicated member table, sorted by ID (nil when it is not known:
// no member attributes were configured and no membership change has been applied).
func (s *Server) Members() []Member { return cloneMembers(s.members) }

// ProposeConfChange proposes a membership change as leader. m carries the attributes of the
// member being added (its ID must be cc.NodeID); promotions and removals ignore it. The
// entry carries the whole member table after the change (raft.ConfChange.Context), so
// every server, also one that joined late, learns the table from it. The change is done
// when its entry is applied: Members then shows it, and the server emits an Observe of kind
// "member" (and "member-removed" with the ID, for a removal).
func (s *Server) ProposeConfChange(cc raft.ConfChange, m Member) error {
	_, err := s.proposeConf(cc, m, Request{})
	return err
}

// proposeConf proposes a change for req's session (none for a zero Client): its entry
// carries the session, so that every server records the change as the session's command
// and a copy of the request (a duplicated frame, a resend) is answered from the record
// instead of changing the table again.
func (s *Server) proposeConf(cc raft.ConfChange, m Member, req Request) ([]byte, error) {
	if s.node == nil || s.lead != uint64(s.cfg.ID) || s.node.BasicStatus().SoftState.Role != raft.RoleLeader {
		// s.lead follows raft's Readies, which wait while one is syncing: raft may have
		// stepped down already, and would forward the proposal, with a table computed
		// here, to a leader whose table has moved on.
		return nil, ErrNotLeader
	}
	if s.confUnapplied() || s.node.ConfIndex() > s.tableIndex {
		// A change is appended (perhaps still in raft's unstable log, behind a Ready
		// that is syncing) but not applied here: the table is not the one in force.
		return nil, ErrConfChangePending
	}
	next, err := s.nextMembers(cc, m)
	if err != nil {
		return nil, err
	}
	cc.Context = encodeConfContext(req, next)
	switch err := s.node.ProposeConfChange(cc); {
	case errors.Is(err, raft.ErrConfChangePending):
		return nil, ErrConfChangePending
	case errors.Is(err, raft.ErrProposalDropped):
		return nil, ErrNotLeader
	case err != nil:
		return nil, fmt.Errorf("%w: %v", errConfChangeRejected, err)
	}
	return cc.Context, nil
}

// confUnapplied reports whether the log holds a conf change not yet applied here: the
// table a new change is computed from would miss it. (Raft itself refuses a change while
// one is uncommitted; this covers committed but unapplied ones.)
func (s *Server) confUnapplied() bool {
	_, ok := s.unappliedConf()
	return ok
}

// unappliedConf returns the last conf change in the log that is not applied here.
func (s *Server) unappliedConf() (raft.ConfChange, bool) {
	last, _ := s.ms.LastIndex()
	if last <= s.applied {
		return raft.ConfChange{}, false
	}
	ents, err := s.ms.Entries(s.applied+1, last+1, 1<<62)
	if err != nil {
		return raft.ConfChange{}, true
	}
	for i := len(ents) - 1; i >= 0; i-- {
		if ents[i].Type != raft.EntryConfChange {
			continue
		}
		cce, err := raft.DecodeConfChange(ents[i].Data)
		if err != nil {
			return raft.ConfChange{}, true
		}
		return cce.Change, true
	}
	return raft.ConfChange{}, false
}

// awaitOwn takes a copy of a change request whose change is already in the log, not
// applied yet: its client waits here for the change instead of being refused because a
// change is pending (its own).
func (s *Server) awaitOwn(from c.NodeID, req Request) bool {
	if w := s.confWait; w != nil && w.client == req.Client && w.seq == req.Seq {
		w.from = from // proposed here, maybe not even in the storage yet (its Ready is syncing)
		return true
	}
	cc, ok := s.unappliedConf()
	if !ok || len(cc.Context) == 0 {
		return false
	}
	sess, _, err := decodeConfContext(cc.Context)
	if err != nil || sess.Client != req.Client || sess.Seq != req.Seq {
		return false
	}
	s.confWait = &confWaiter{from: from, client: req.Client, seq: req.Seq, id: cc.NodeID, ctx: cc.Context}
	return true
}

// nextMembers validates cc against the table and returns the table after it.
func (s *Server) nextMembers(cc raft.ConfChange, m Member) ([]Member, error) {
	i := slices.IndexFunc(s.members, func(x Member) bool { return x.ID == cc.NodeID })
	switch cc.Type {
	case raft.ConfChangeRemove:
		if i < 0 {
			return nil, ErrMemberNotFound
		}
		return slices.Delete(cloneMembers(s.members), i, i+1), nil
	case raft.ConfChangeAddVoter:
		if i >= 0 {
			return s.promote(i)
		}
	case raft.ConfChangeAddLearner:
		if i >= 0 {
			return nil, ErrMemberExists
		}
	default:
		return nil, fmt.Errorf("%w: unknown change type %d", errConfChangeRejected, cc.Type)
	}
	for _, x := range s.members {
		for _, u := range x.PeerURLs {
			if slices.Contains(m.PeerURLs, u) {
				return nil, ErrPeerURLExists
			}
		}
	}
	m.ID, m.Learner = cc.NodeID, cc.Type == raft.ConfChangeAddLearner
	return insertMember(s.members, m), nil
}

// promote makes member i a voter, if it is a learner that has caught up.
func (s *Server) promote(i int) ([]Member, error) {
	if !s.members[i].Learner {
		return nil, ErrMemberNotLearner
	}
	st := s.node.Status()
	pr, ok := st.Progress[s.members[i].ID]
	if !ok || !learnerReady(pr.Match, st.LastIndex) {
		return nil, ErrLearnerNotReady
	}
	out := cloneMembers(s.members)
	out[i].Learner = false
	return out, nil
}

// applyConfChange updates the table for an applied conf-change entry, answers the client
// waiting for it, and halts a server that applied its own removal.
func (s *Server) applyConfChange(e raft.Entry) []c.Effect {
	cce, err := raft.DecodeConfChange(e.Data)
	if err != nil {
		panic(fmt.Sprintf("rsm: conf change entry %d: %v", e.Index, err))
	}
	cc := cce.Change
	var sess Request
	if len(cc.Context) > 0 {
		req, ms, err := decodeConfContext(cc.Context)
		if err != nil {
			panic(fmt.Sprintf("rsm: conf change entry %d: member table: %v", e.Index, err))
		}
		s.members, sess = ms, req
	} else {
		s.members = structuralChange(s.members, cc)
	}
	if sess.Client != 0 {
		s.sess.record(sess.Client, sess.Seq, sess.Ack, encodeConfResult(s.members, nil))
	}
	s.tableIndex = e.Index
	effs := []c.Effect{MembersChanged{Index: e.Index, Members: cloneMembers(s.members)}}
	if w := s.confWait; w != nil && w.id == cc.NodeID && bytes.Equal(w.ctx, cc.Context) {
		s.confWait = nil
		effs = append(effs, c.Send{To: w.from, Msg: Reply{Client: w.client, Seq: w.seq, Result: encodeConfResult(s.members, nil)}})
	}
	if cc.Type == raft.ConfChangeRemove {
		// Tell the removed member, which may never see this entry: the leader stopped
		// replicating to it when the entry was appended.
		if cc.NodeID == uint64(s.cfg.ID) {
			s.removedAt = e.Index
			effs = append(effs, s.removed()...)
		} else {
			if s.removedIDs == nil {
				s.removedIDs = map[uint64]bool{}
			}
			s.removedIDs[cc.NodeID] = true
			effs = append(effs, c.Send{To: c.NodeID(cc.NodeID), Msg: RemovedNotice{}}, MemberRemoved{ID: cc.NodeID})
		}
	}
	return effs
}

// ReasonRemoved is the Halt reason of a server that applied its own removal.
const ReasonRemoved = "removed from the cluster"

// structuralChange applies a change that carries no table (proposed directly to raft).
func structuralChange(ms []Member, cc raft.ConfChange) []Member {
	i := slices.IndexFunc(ms, func(x Member) bool { return x.ID == cc.NodeID })
	out := cloneMembers(ms)
	switch {
	case cc.Type == raft.ConfChangeRemove && i >= 0:
		return slices.Delete(out, i, i+1)
	case cc.Type == raft.ConfChangeAddVoter && i >= 0:
		out[i].Learner = false
	case i < 0 && cc.Type != raft.ConfChangeRemove:
		return insertMember(ms, Member{ID: cc.NodeID, Learner: cc.Type == raft.ConfChangeAddLearner})
	}
	return out
}

// confWaiter is the client waiting for the conf change this leader proposed.
type confWaiter struct {
	from        c.NodeID
	client, seq uint64
	id          uint64
	ctx         []byte
}

// confRequest serves a Request with Conf set: a membership change, proposed as leader.
func (s *Server) confRequest(from c.NodeID, req Request) []c.Effect {
	cc, m, err := decodeConfRequest(req.Payload)
	if err != nil {
		return []c.Effect{c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: encodeConfResult(nil, fmt.Errorf("%w: %v", errConfChangeRejected, err))}}}
	}
	if req.Seq != 0 && s.lead == uint64(s.cfg.ID) {
		switch result, d := s.sess.lookup(req.Client, req.Seq); d {
		case dupLatest:
			return []c.Effect{c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: result}}}
		case dupStale:
			return nil // an old copy: the client has moved on
		}
		if s.awaitOwn(from, req) {
			return nil
		}
	}
	ctx, err := s.proposeConf(cc, m, req)
	if errors.Is(err, ErrNotLeader) {
		return []c.Effect{c.Send{To: from, Msg: Redirect{Client: req.Client, Seq: req.Seq, Leader: s.lead}}}
	}
	if err != nil {
		return []c.Effect{c.Send{To: from, Msg: Reply{Client: req.Client, Seq: req.Seq, Result: encodeConfResult(nil, err)}}}
	}
	s.confWait = &confWaiter{from: from, client: req.Client, seq: req.Seq, id: cc.NodeID, ctx: ctx}
	return nil
}

// ConfChangeRequest is the Request that asks the leader for a membership change (see
// ProposeConfChange); the Reply's result decodes with DecodeConfChangeResult. A server
// that does not lead redirects it, like a write.
func ConfChangeRequest(cc raft.ConfChange, m Member) Request {
	b := []byte{byte(cc.Type)}
	b = binary.AppendUvarint(b, cc.NodeID)
	return Request{Conf: true, Payload: append(b, encodeMembers([]Member{m})...)}
}

// MembersRequest is the Request that reads the member table linearizably (after a read
// index, on the leader); the result decodes with DecodeConfChangeResult.
func MembersRequest() Request { return Request{Conf: true} }

func decodeConfRequest(b []byte) (raft.ConfChange, Member, error) {
	r := &reader{b: b}
	cc := raft.ConfChange{Type: raft.ConfChangeType(r.byte()), NodeID: r.uvarint()}
	if r.err != nil {
		return cc, Member{}, r.err
	}
	ms, err := decodeMembers(r.b)
	if err != nil || len(ms) != 1 {
		return cc, Member{}, errors.Join(errBadRecord, err)
	}
	return cc, ms[0], nil
}

// DecodeConfChangeResult decodes the result of a ConfChangeRequest: the member table after
// the change, or the error that refused it (one of this package's membership errors).
func DecodeConfChangeResult(b []byte) ([]Member, error) {
	r := &reader{b: b}
	code := r.byte()
	switch {
	case r.err != nil:
		return nil, r.err
	case code == 0:
		return decodeMembers(r.b)
	case int(code) <= len(confErrors):
		return nil, fmt.Errorf("%w%s", confErrors[code-1], string(r.b))
	}
	return nil, fmt.Errorf("%w: result code %d", errBadRecord, code)
}

func encodeConfResult(ms []Member, err error) []byte {
	if err == nil {
		return append([]byte{0}, encodeMembers(ms)...)
	}
	for i, e := range confErrors {
		if errors.Is(err, e) {
			detail := strings.TrimPrefix(err.Error(), e.Error())
			return append([]byte{byte(i + 1)}, detail...)
		}
	}
	return append([]byte{byte(len(confErrors))}, ": "+err.Error()...)
}

// A conf change's context is the member table after it (encodeMembers, whose format byte
// is 1) or, for a change a client session asked for, confSessionFormat, the session's
// client, sequence and acknowledgement floor, then the table.
const confSessionFormat = 2

func encodeConfContext(req Request, ms []Member) []byte {
	if req.Client == 0 || req.Seq == 0 {
		return encodeMembers(ms)
	}
	b := binary.AppendUvarint([]byte{confSessionFormat}, req.Client)
	b = binary.AppendUvarint(b, req.Seq)
	b = binary.AppendUvarint(b, req.Ack)
	return append(b, encodeMembers(ms)...)
}

func decodeConfContext(b []byte) (Request, []Member, error) {
	var req Request
	if len(b) > 0 && b[0] == confSessionFormat {
		r := &reader{b: b[1:]}
		req.Client, req.Seq, req.Ack = r.uvarint(), r.uvarint(), r.uvarint()
		if r.err != nil {
			return req, nil, r.err
		}
		b = r.b
	}
	ms, err := decodeMembers(b)
	return req, ms, err
}

// EncodeMembers encodes a member table; DecodeMembers reads it back. Drivers use them to
// hand the table to a member that is joining.
func EncodeMembers(ms []Member) []byte { return encodeMembers(ms) }

// DecodeMembers decodes what EncodeMembers wrote.
func DecodeMembers(b []byte) ([]Member, error) { return decodeMembers(b) }

// The member table's encoding: a format byte, the count, then per member its ID, name,
// peer URLs and learner flag.
func encodeMembers(ms []Member) []byte {
	b := []byte{1}
	b = binary.AppendUvarint(b, uint64(len(ms)))
	for _, m := range ms {
		b = binary.AppendUvarint(b, m.ID)
		b = appendBytes(b, []byte(m.Name))
		b = binary.AppendUvarint(b, uint64(len(m.PeerURLs)))
		for _, u := range m.PeerURLs {
			b = appendBytes(b, []byte(u))
		}
		b = append(b, flagByte(m.Learner))
	}
	return b
}

func decodeMembers(b []byte) ([]Member, error) {
	r := &reader{b: b}
	if r.byte() != 1 && r.err == nil {
		return nil, fmt.Errorf("%w: member table format", errBadRecord)
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return nil, errBadRecord
	}
	ms := make([]Member, 0, n)
	for range n {
		m := Member{ID: r.uvarint(), Name: string(r.bytes())}
		k := r.uvarint()
		if k > uint64(len(r.b)) {
			return nil, errBadRecord
		}
		for range k {
			m.PeerURLs = append(m.PeerURLs, string(r.bytes()))
		}
		m.Learner = r.byte() == 1
		ms = append(ms, m)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes after the member table", errBadRecord, len(r.b))
	}
	return ms, r.err
}

// Snapshot data is the member table (when known), the sessions and the application's state.
// The table goes first behind a marker that no canonical uvarint starts with (0x80 0x00),
// so snapshots without one (the simulator's; those written before the table existed) keep
// their bytes and still decode.
var tableMarker = []byte{0x80, 0x00}

func (s *Server) snapshotData() []byte {
	var b []byte
	if len(s.members) > 0 && !s.cfg.Bugs.On(BugSnapshotDropsMembers) {
		b = appendBytes(slices.Clone(tableMarker), encodeMembers(s.members))
	}
	b = append(b, s.sess.encode()...)
	return append(b, s.app.Snapshot()...)
}

// splitTable takes the member table off the front of snapshot data (nil if it has none).
func splitTable(data []byte) ([]Member, []byte, error) {
	if !bytes.HasPrefix(data, tableMarker) {
		return nil, data, nil
	}
	r := &reader{b: data[len(tableMarker):]}
	raw := r.bytes()
	if r.err != nil {
		return nil, nil, r.err
	}
	ms, err := decodeMembers(raw)
	return ms, r.b, err
}

func cloneMembers(ms []Member) []Member {
	if ms == nil {
		return nil
	}
	out := make([]Member, len(ms))
	for i, m := range ms {
		m.PeerURLs = slices.Clone(m.PeerURLs)
		out[i] = m
	}
	return out
}

func insertMember(ms []Member, m Member) []Member {
	out := append(cloneMembers(ms), m)
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func formatMembers(ms []Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, " ")
}
