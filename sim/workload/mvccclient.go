package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
)

// mvccClient is a watching client that sends the mvcc workload's requests and checks
// every response against the reference on its own watch replay.
type mvccClient struct {
	*watchingClient
	codec  *mvccCodec
	leases map[kv.LeaseID]*ownLease
	slots  [leaseSlots]kv.LeaseID
	call   *mvccCall   // the request in flight
	checks []mvccCheck // responses waiting for the stream to reach their revision
	// unplaced are refusals without a revision, waiting for a later response to bound
	// the revision they were decided at.
	unplaced []mvccCheck
	expire   *component.Op      // the final operation, once invoked
	failed   bool               // a check failed: report only the first
	obs      []component.Effect // observations made while sending
	minTTL   int64              // the store's minimum lease TTL
	bad      *badCall           // a malformed watch request in flight
}

// badCall is a malformed watch request sent as a front stream.
type badCall struct {
	op   component.Op
	call uint64
}

// badWatch opens a stream with a request that does not decode; it must be answered with
// ErrMalformed. Only a client of a front sees the answer (a direct stream request is
// answered under the client's own stream), so the others decline.
func (m *mvccClient) badWatch(op component.Op) []component.Effect {
	if !m.Client.Fronted() {
		return []component.Effect{component.Complete{OpID: op.ID, Outcome: component.Fail, Value: op.Value}}
	}
	call := m.Client.StreamCall([]byte{0xff, 0xfe, 0xfd})
	m.bad = &badCall{op: op, call: call.ID}
	return []component.Effect{component.Send{To: m.servers[m.next], Msg: call}}
}

func (m *mvccClient) badAnswered(msg rsm.Answer) []component.Effect {
	op := m.bad.op
	m.bad = nil
	done := component.Complete{OpID: op.ID, Outcome: component.OK, Value: component.Str("refused")}
	a, err := kv.DecodeAnswer(msg.Result)
	if msg.Err == nil && (err != nil || !errors.Is(a.Err, kv.ErrMalformed)) {
		return append(m.wrongf("a malformed watch request was answered %q (decoded: %v), not %v", msg.Result, err, kv.ErrMalformed), done)
	}
	return []component.Effect{done}
}

// ownLease is what the client knows of a lease it was granted.
type ownLease struct {
	id      kv.LeaseID
	ttl     int64
	sent    time.Duration // the latest grant or renewal answered was sent then: it promised TTL from there
	revoked bool          // a revoke of it completed
	unsure  bool          // a revoke (or an explicit grant) of it was sent and never answered
}

// leaseFact is what the client knew of one lease a request names when its response came.
type leaseFact struct {
	id   kv.LeaseID
	ttl  int64
	sent time.Duration
	sure bool // granted, not revoked, and the promise had not run out: it must exist
}

// mvccCall is one request: the operation, the resolved request, and when it was sent.
type mvccCall struct {
	op      component.Op
	cmd     *kv.Command
	query   *kv.Query
	invoked time.Duration
	from    int64 // the revision the client's stream had reached: the request runs after it
	slot    int   // for a grant into a slot: which; -1 otherwise
}

// mvccCheck is a completed request waiting to be checked.
type mvccCheck struct {
	call      *mvccCall
	completed time.Duration
	rev       int64 // the response's revision (unplaced: the bound found for it, 0 until then)
	unplaced  bool  // a refusal without a revision
	reply     *kv.Reply
	answer    *kv.Answer
	// What the client knew of the request's leases (those not revoked) when the
	// response came.
	leases []leaseFact
}

// mvccCodec hands the rsm client the request the mvcc client resolved, and gives back
// the raw result: the mvcc client judges it, not the codec.
type mvccCodec struct {
	payload []byte
	read    bool
}

func (c *mvccCodec) Encode(component.Op) ([]byte, bool, bool) {
	return c.payload, c.read, c.payload != nil
}

// Decode completes the operation with the request sent (placeholders resolved) and the
// response, as text.
func (c *mvccCodec) Decode(_ component.Op, result []byte) (component.Outcome, component.Value) {
	req, resp := "undecodable", "undecodable"
	if c.read {
		if q, err := kv.DecodeQuery(c.payload); err == nil {
			req = describeQuery(&q)
		}
		if a, err := kv.DecodeAnswer(result); err == nil {
			resp = describeAnswer(&a)
		}
	} else {
		if cmd, err := kv.DecodeCommand(c.payload); err == nil {
			req = describeCommand(&cmd)
		}
		if r, err := kv.DecodeReply(result); err == nil {
			resp = describeReply(&r)
		}
	}
	return component.OK, component.List(component.Str(req), component.Str(resp))
}

func newMvccClient(id component.NodeID, servers []component.NodeID, r *rand.Rand) *mvccClient {
	w := newWatchingClient(id, servers, r, true)
	codec := &mvccCodec{}
	w.Client = rsm.NewClient(id, servers, codec, 150*time.Millisecond)
	w.key, w.end = watchPrefix, kv.Prefix(watchPrefix)
	w.history = map[int64][]kv.Event{}
	return &mvccClient{watchingClient: w, codec: codec, leases: map[kv.LeaseID]*ownLease{}, minTTL: mvccMinTTL}
}

func (m *mvccClient) Handle(now time.Duration, in component.Input) []component.Effect {
	switch in := in.(type) {
	case component.Start:
		return m.subscribe(m.last + 1)
	case component.Invoke:
		switch in.Op.F {
		case "AwaitExpiry":
			m.expire = &in.Op
			return m.expired()
		case "BadWatch":
			return m.badWatch(in.Op)
		}
		return m.invoke(now, in)
	case component.Cancel:
		if m.bad != nil && m.bad.op.ID == in.OpID {
			m.bad = nil
			return nil
		}
		m.cancelled()
		return m.Client.Handle(now, in)
	case component.TimerFired:
		if in.ID == timerWatch {
			return append(m.tick(), m.expired()...)
		}
	case component.Receive:
		switch msg := in.Msg.(type) {
		case rsm.Pushed:
			effs := m.events(msg.Data)
			return append(append(effs, m.runChecks()...), m.expired()...)
		case rsm.Reply:
			return m.completed(now, m.Client.Handle(now, in), msg.Result)
		case rsm.Answer:
			if m.bad != nil && msg.ID == m.bad.call {
				return m.badAnswered(msg)
			}
			return m.completed(now, m.Client.Handle(now, in), msg.Result)
		}
	}
	return m.Client.Handle(now, in)
}

// invoke resolves the operation's placeholders and sends it.
func (m *mvccClient) invoke(now time.Duration, in component.Invoke) []component.Effect {
	text, raw, ok := requestParts(in.Op.Value)
	if !ok {
		return []component.Effect{component.Complete{OpID: in.Op.ID, Outcome: component.Fail, Value: in.Op.Value}}
	}
	call := &mvccCall{op: in.Op, invoked: now, from: m.last, slot: -1}
	var payload []byte
	var lost []component.Effect // the request did not survive its encoding
	if isQuery(in.Op.F) {
		q, err := kv.DecodeQuery(raw)
		if err != nil {
			return append(m.wrongf("a request does not decode: %s: %v", text, err),
				component.Complete{OpID: in.Op.ID, Outcome: component.Fail, Value: in.Op.Value})
		}
		lost = m.survives(text, describeQuery(&q))
		m.resolveQuery(&q)
		call.query, payload = &q, q.Encode()
		if back, err := kv.DecodeQuery(payload); err != nil || describeQuery(&back) != describeQuery(&q) {
			lost = append(lost, m.survives(describeQuery(&q), describeQuery(&back))...)
		}
	} else {
		c, err := kv.DecodeCommand(raw)
		if err != nil {
			return append(m.wrongf("a request does not decode: %s: %v", text, err),
				component.Complete{OpID: in.Op.ID, Outcome: component.Fail, Value: in.Op.Value})
		}
		lost = m.survives(text, describeCommand(&c))
		call.slot = m.resolveCommand(&c)
		call.cmd, payload = &c, c.Encode()
		if back, err := kv.DecodeCommand(payload); err != nil || describeCommand(&back) != describeCommand(&c) {
			lost = append(lost, m.survives(describeCommand(&c), describeCommand(&back))...)
		}
	}
	m.obs = append(m.obs, lost...)
	if c := call.cmd; c != nil && c.Compaction != nil {
		m.obs = append(m.obs, component.Observe{Kind: "compact-sent", Value: fmt.Sprint(c.Compaction.Revision)})
	}
	m.call = call
	m.codec.payload, m.codec.read = payload, call.query != nil
	effs := append(m.flushObs(), m.Client.Handle(now, in)...)
	return effs
}

// survives checks a request against what its binary form decodes to. The reference sees
// requests as the client decoded them, like the store; an encoding that loses or changes a
// field would fool both alike, so the text of the request as drawn (by reflection, not by
// the codec) is the judge.
func (m *mvccClient) survives(sent, decoded string) []component.Effect {
	if sent == decoded {
		return nil
	}
	return m.wrongf("a request does not survive its encoding: %s decodes as %s", sent, decoded)
}

// cancelled: the world gave up on the request. A grant may still happen (its lease is
// then unknown to the client, which is harmless); a revoke may too (unsure stays set).
func (m *mvccClient) cancelled() {
	c := m.call
	m.call = nil
	switch {
	case c == nil || c.cmd == nil:
	case c.cmd.LeaseRevoke != nil:
		if l := m.leases[c.cmd.LeaseRevoke.ID]; l != nil {
			l.unsure = true
		}
	case c.cmd.LeaseGrant != nil && c.cmd.LeaseGrant.ID != 0:
		// A grant under an ID the client chose may yet happen.
		if l := m.leases[c.cmd.LeaseGrant.ID]; l == nil || l.revoked {
			m.leases[c.cmd.LeaseGrant.ID] = &ownLease{id: c.cmd.LeaseGrant.ID, ttl: max(c.cmd.LeaseGrant.TTL, m.minTTL), unsure: true}
		}
	}
}

// rev resolves a revision placeholder against the stream's last revision.
func (m *mvccClient) rev(p *int64) {
	if *p < 0 {
		*p = max(1, m.last+1+*p)
	}
}

// lease resolves a lease placeholder: the slot's lease, or an ID nobody holds when the
// slot is empty (so that the request meets a lease that does not exist).
func (m *mvccClient) lease(p *kv.LeaseID) {
	if *p < 0 && *p > -100 {
		*p = m.slotID(int(-1 - *p))
	}
}

func (m *mvccClient) slotID(i int) kv.LeaseID {
	if id := m.slots[i]; id != 0 {
		return id
	}
	return kv.LeaseID(int64(m.id)<<40 | int64(i+1)) // never granted: the store draws IDs below 2^63 at random, and clients grant none of this form
}

func (m *mvccClient) resolveRange(r *kv.RangeRequest) {
	for _, p := range []*int64{&r.Revision, &r.MinModRevision, &r.MaxModRevision, &r.MinCreateRevision, &r.MaxCreateRevision} {
		m.rev(p)
	}
}

func (m *mvccClient) resolveTxn(t *kv.TxnRequest) {
	for i := range t.Compare {
		c := &t.Compare[i]
		m.rev(&c.CreateRevision)
		m.rev(&c.ModRevision)
		m.lease(&c.Lease)
	}
	for _, ops := range [][]kv.RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			switch {
			case op.Range != nil:
				m.resolveRange(op.Range)
			case op.Put != nil:
				m.lease(&op.Put.Lease)
			case op.Txn != nil:
				m.resolveTxn(op.Txn)
			}
		}
	}
}

func (m *mvccClient) resolveQuery(q *kv.Query) {
	switch {
	case q.Range != nil:
		m.resolveRange(q.Range)
	case q.Txn != nil:
		m.resolveTxn(q.Txn)
	case q.KeepAlive != 0:
		m.lease(&q.KeepAlive)
	case q.TimeToLive != nil:
		m.lease(&q.TimeToLive.ID)
	case q.HashKV != nil:
		m.rev(&q.HashKV.Revision)
	}
}

// resolveCommand resolves c and returns the slot a grant fills (-1 for other commands).
func (m *mvccClient) resolveCommand(c *kv.Command) int {
	switch {
	case c.Put != nil:
		m.lease(&c.Put.Lease)
	case c.Txn != nil:
		m.resolveTxn(c.Txn)
	case c.Compaction != nil:
		m.rev(&c.Compaction.Revision)
	case c.LeaseRevoke != nil:
		m.lease(&c.LeaseRevoke.ID)
	case c.LeaseGrant != nil && c.LeaseGrant.ID <= -100:
		slot := int(-100 - c.LeaseGrant.ID)
		c.LeaseGrant.ID = 0
		return slot
	case c.LeaseGrant != nil:
		slot := int(-1 - c.LeaseGrant.ID)
		m.lease(&c.LeaseGrant.ID)
		if l := m.leases[c.LeaseGrant.ID]; l != nil && !l.revoked {
			// The lease may exist (an unanswered grant, or one not expired yet) or not
			// (expired): ask for the TTL it has, so that the client knows the TTL of
			// whichever lease holds the ID afterwards.
			c.LeaseGrant.TTL = l.ttl
		}
		if m.slots[slot] == 0 {
			return slot // the slot's stand-in ID, granted now: the slot holds it if it works
		}
	}
	return -1
}

// completed takes the rsm client's effects for a reply: if they complete the request in
// flight, its response is noted for checking.
func (m *mvccClient) completed(now time.Duration, effs []component.Effect, result []byte) []component.Effect {
	call := m.call
	if call == nil || !completedOK(effs, call.op.ID) {
		return effs
	}
	m.call = nil
	chk := mvccCheck{call: call, completed: now}
	var err error
	var hdr int64
	if call.query != nil {
		var a kv.Answer
		a, err = kv.DecodeAnswer(result)
		chk.answer = &a
		hdr = answerRev(&a)
	} else {
		var r kv.Reply
		r, err = kv.DecodeReply(result)
		chk.reply = &r
		hdr = replyRev(&r)
	}
	if err != nil {
		return append(effs, m.wrongf("undecodable response to %s: %v", describeCall(call), err)...)
	}
	m.knownLeases(&chk)
	effs = append(effs, m.noteLease(chk)...)
	effs = append(effs, compactionFacts(chk)...)
	if hdr == 0 {
		chk.unplaced = true
		m.unplaced = append(m.unplaced, chk)
		return append(append(effs, m.refused(chk)...), m.runChecks()...)
	}
	// A response with a revision bounds every refusal before it.
	for _, u := range m.unplaced {
		u.rev = hdr
		m.checks = append(m.checks, u)
	}
	m.unplaced = nil
	chk.rev = hdr
	m.checks = append(m.checks, chk)
	return append(effs, m.runChecks()...)
}

// noteLease updates what the client knows of its leases from a response.
func (m *mvccClient) noteLease(chk mvccCheck) []component.Effect {
	call := chk.call
	switch {
	case chk.reply != nil && chk.reply.LeaseGrant != nil:
		g := chk.reply.LeaseGrant
		if old := m.leases[g.ID]; old != nil && !old.revoked && call.cmd.LeaseGrant.ID == 0 {
			return m.wrongf("a new lease was granted as %d, the ID of a lease the client holds", g.ID)
		}
		m.leases[g.ID] = &ownLease{id: g.ID, ttl: g.TTL, sent: call.invoked}
		if call.slot >= 0 {
			m.slots[call.slot] = g.ID
		}
	case chk.reply != nil && call.cmd.LeaseRevoke != nil:
		if l := m.leases[call.cmd.LeaseRevoke.ID]; l != nil {
			l.unsure = false
			l.revoked = l.revoked || chk.reply.Err == nil || errors.Is(chk.reply.Err, kv.ErrLeaseNotFound)
		}
	case chk.answer != nil && chk.answer.KeepAlive != nil:
		if l := m.leases[chk.answer.KeepAlive.ID]; l != nil {
			l.sent = max(l.sent, call.invoked)
		}
	}
	return nil
}

// knownLeases records what the client knows, as the response comes, of the leases the
// request names. Its own requests run one at a time, so every earlier grant, renewal and
// revoke has been decided; a revoke never answered leaves a lease in doubt, and so does
// a promise that ran out before the response came. A lease the client is sure of may
// still be found gone: how early a lease may expire depends on the servers' clocks,
// which checkMvcc knows and the client does not.
func (m *mvccClient) knownLeases(chk *mvccCheck) {
	for _, id := range requestLeases(chk.call) {
		l := m.leases[id]
		if l == nil || l.revoked || slices.ContainsFunc(chk.leases, func(f leaseFact) bool { return f.id == id }) {
			continue
		}
		sure := !l.unsure && chk.completed < l.sent+time.Duration(l.ttl)*time.Second
		chk.leases = append(chk.leases, leaseFact{id: id, ttl: l.ttl, sent: l.sent, sure: sure})
	}
}

// compactionFacts observes a completed compaction and a read of a past revision that
// succeeded, for checkMvcc.
func compactionFacts(chk mvccCheck) []component.Effect {
	c := chk.call
	switch {
	case c.cmd != nil && c.cmd.Compaction != nil && chk.reply.Err == nil:
		return []component.Effect{component.Observe{Kind: "compact-done", Value: fmt.Sprint(c.cmd.Compaction.Revision)}}
	case c.query != nil && c.query.Range != nil && c.query.Range.Revision > 0 && chk.answer.Err == nil:
		return []component.Effect{component.Observe{Kind: "read-at", Value: fmt.Sprintf("%d %d", c.query.Range.Revision, c.invoked)}}
	case c.query != nil && c.query.HashKV != nil && chk.answer.HashKV != nil && chk.answer.HashKV.CompactRevision > 0:
		return []component.Effect{component.Observe{Kind: "compact-named", Value: fmt.Sprintf("%d 0", chk.answer.HashKV.CompactRevision)}}
	}
	return nil
}

func answerRev(a *kv.Answer) int64 {
	switch {
	case a.Range != nil:
		return a.Range.Header.Revision
	case a.Txn != nil:
		return a.Txn.Header.Revision
	case a.KeepAlive != nil:
		return a.KeepAlive.Header.Revision
	case a.TimeToLive != nil:
		return a.TimeToLive.Header.Revision
	case a.HashKV != nil:
		return a.HashKV.Header.Revision
	}
	return 0
}

func replyRev(r *kv.Reply) int64 {
	switch {
	case r.Put != nil:
		return r.Put.Header.Revision
	case r.DeleteRange != nil:
		return r.DeleteRange.Header.Revision
	case r.Txn != nil:
		return r.Txn.Header.Revision
	case r.Compaction != nil:
		return r.Compaction.Header.Revision
	case r.LeaseGrant != nil:
		return r.LeaseGrant.Header.Revision
	case r.LeaseRevoke != nil:
		return r.LeaseRevoke.Header.Revision
	}
	return 0
}

// refused observes what a refusal says about compaction, for checkMvcc.
func (m *mvccClient) refused(chk mvccCheck) []component.Effect {
	err := chkErr(chk)
	if errors.Is(err, kv.ErrNotLeader) {
		// Only a leader that stepped down while the keep-alive waited for its read
		// index says so; checkMvcc looks for the step-down.
		return []component.Effect{component.Observe{Kind: "not-leader", Value: fmt.Sprintf("%d %d", chk.call.invoked, chk.completed)}}
	}
	if !errors.Is(err, kv.ErrCompacted) {
		return nil
	}
	switch c := chk.call; {
	case c.query != nil && c.query.Range != nil:
		return []component.Effect{component.Observe{Kind: "compacted-read", Value: fmt.Sprintf("%d 0", c.query.Range.Revision)}}
	case c.query != nil && c.query.HashKV != nil:
		return []component.Effect{component.Observe{Kind: "compacted-read", Value: fmt.Sprintf("%d 0", c.query.HashKV.Revision)}}
	case c.cmd != nil && c.cmd.Compaction != nil:
		return []component.Effect{component.Observe{Kind: "compacted-compact", Value: fmt.Sprintf("%d %d", c.cmd.Compaction.Revision, c.invoked)}}
	}
	if low := lowestRead(chk.call); low > 0 {
		// A txn fails whole when one of its ranges reads a compacted revision: the
		// lowest it reads needs a compaction above it.
		return []component.Effect{component.Observe{Kind: "compacted-read", Value: fmt.Sprintf("%d 0", low)}}
	}
	return m.wrongf("%s refused with %v, but it reads no past revision", describeCall(chk.call), err)
}

// lowestRead is the lowest past revision a txn's ranges read (0: none).
func lowestRead(c *mvccCall) int64 {
	var t *kv.TxnRequest
	switch {
	case c.cmd != nil && c.cmd.Txn != nil:
		t = c.cmd.Txn
	case c.query != nil && c.query.Txn != nil:
		t = c.query.Txn
	default:
		return 0
	}
	var low int64
	var walk func(t *kv.TxnRequest)
	walk = func(t *kv.TxnRequest) {
		for _, ops := range [][]kv.RequestOp{t.Success, t.Failure} {
			for _, op := range ops {
				switch {
				case op.Range != nil && op.Range.Revision > 0 && (low == 0 || op.Range.Revision < low):
					low = op.Range.Revision
				case op.Txn != nil:
					walk(op.Txn)
				}
			}
		}
	}
	walk(t)
	return low
}

func chkErr(chk mvccCheck) error {
	if chk.reply != nil {
		return chk.reply.Err
	}
	return chk.answer.Err
}

// runChecks checks every response the stream has reached.
func (m *mvccClient) runChecks() []component.Effect {
	var effs []component.Effect
	keep := m.checks[:0]
	for _, chk := range m.checks {
		if chk.rev > m.last || m.lost {
			keep = append(keep, chk)
			continue
		}
		effs = append(effs, m.check(chk)...)
	}
	m.checks = keep
	return effs
}

// check holds one response to the reference. A response with a revision r came either
// from a request that wrote revision r (it ran on the state at r-1 and the stream's
// events at r are its) or from one that wrote nothing (it ran on the state at r); either
// explanation will do. A refusal without a revision ran at some revision between the
// stream's position when it was sent and the revision of the next response.
func (m *mvccClient) check(chk mvccCheck) []component.Effect {
	got := describeResult(chk)
	if chk.call.cmd != nil && chk.call.cmd.Compaction != nil && errors.Is(chkErr(chk), kv.ErrCompacted) {
		return nil // checked across clients: it needs a compaction sent at or above it
	}
	if errors.Is(chkErr(chk), kv.ErrCompacted) || errors.Is(chkErr(chk), kv.ErrNotLeader) {
		return nil
	}
	if chk.unplaced {
		var alts goneAlts
		for r := chk.call.from; r <= chk.rev; r++ {
			alts = append(alts, m.explains(chk, r, false, got)...)
		}
		if len(alts) > 0 {
			return leasesGone(chk, alts)
		}
		return m.wrongf("%s was refused (%s) at no revision from %d to %d: the reference answers %s there",
			describeCall(chk.call), got, chk.call.from, chk.rev, m.expected(chk, chk.rev, false))
	}
	var wrote goneAlts
	if chk.reply != nil {
		wrote = m.explains(chk, chk.rev-1, true, got)
	}
	still := m.explains(chk, chk.rev, false, got)
	switch {
	case still.free() || len(still) > 0 && !wrote.free():
		return append(leasesGone(chk, still), m.placed(chk, "read"))
	case len(wrote) > 0:
		return append(leasesGone(chk, wrote), m.placed(chk, "write"))
	}
	msg := fmt.Sprintf("%s got %s at revision %d; the reference answers %s on the state at %d", describeCall(chk.call), got, chk.rev,
		m.expected(chk, chk.rev, false), chk.rev)
	if chk.reply != nil {
		msg += fmt.Sprintf(", or %s writing revision %d (the stream has [%s] there)", m.expected(chk, chk.rev-1, true), chk.rev, m.released[chk.rev])
	}
	return m.wrongf("%s", msg)
}

// goneAlts are the explanations of a response the reference found: for each, the leases
// it needs gone that the client was sure of.
type goneAlts [][]leaseFact

// free reports whether some explanation needs no lease gone that the client was sure of.
func (a goneAlts) free() bool {
	return slices.ContainsFunc(a, func(g []leaseFact) bool { return len(g) == 0 })
}

// leasesGone observes, when every explanation of a response needs a lease gone that the
// client was sure of, the alternatives, for checkMvcc to judge against the servers'
// clocks: "completed; id ttl sent, ... | ...".
func leasesGone(chk mvccCheck, alts goneAlts) []component.Effect {
	if alts.free() {
		return nil
	}
	var parts []string
	for _, g := range alts {
		var ls []string
		for _, f := range g {
			ls = append(ls, fmt.Sprintf("%d %d %d", f.id, f.ttl, f.sent))
		}
		if p := strings.Join(ls, ", "); !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return []component.Effect{component.Observe{Kind: "lease-gone", Value: fmt.Sprintf("%d; %s", chk.completed, strings.Join(parts, " | "))}}
}

// placed observes where a checked request sits in the revision order, for checkMvcc's
// real-time check: "rev kind invoked completed".
func (m *mvccClient) placed(chk mvccCheck, kind string) component.Effect {
	return component.Observe{Kind: "mvcc-placed", Value: fmt.Sprintf("%d %s %d %d", chk.rev, kind, chk.call.invoked, chk.completed)}
}

// explains returns the ways the reference, run on the state at rev (and, if write, as the
// request that wrote rev+1), gives the response seen, one for each answer to the question
// it cannot settle (which leases still exist) that does; none if it cannot.
func (m *mvccClient) explains(chk mvccCheck, rev int64, write bool, got string) goneAlts {
	var alts goneAlts
	for _, out := range m.outcomes(chk, rev) {
		if out.text == got && out.wrote == write && (!write || m.sameEvents(rev+1, out.events)) {
			alts = append(alts, out.gone)
		}
	}
	return alts
}

// expected describes the reference's answers on the state at rev, for messages.
func (m *mvccClient) expected(chk mvccCheck, rev int64, write bool) string {
	var texts []string
	for _, o := range m.outcomes(chk, rev) {
		if o.wrote == write && !slices.Contains(texts, o.text) {
			texts = append(texts, o.text)
		}
	}
	if len(texts) == 0 {
		return "no such outcome"
	}
	return strings.Join(texts, " or ")
}

type refOutcome struct {
	text   string
	wrote  bool
	events []kv.Event
	gone   []leaseFact // the leases the client was sure of that this outcome takes as gone
}

// outcomes runs the reference on the state at rev once for every combination of the
// request's leases existing or not.
func (m *mvccClient) outcomes(chk mvccCheck, rev int64) []refOutcome {
	state := m.stateMap(rev)
	ttl := func(id kv.LeaseID) int64 {
		if i := slices.IndexFunc(chk.leases, func(f leaseFact) bool { return f.id == id }); i >= 0 {
			return chk.leases[i].ttl
		}
		return 0
	}
	var outs []refOutcome
	for mask := 0; mask < 1<<len(chk.leases); mask++ {
		alive := func(id kv.LeaseID) bool {
			i := slices.IndexFunc(chk.leases, func(f leaseFact) bool { return f.id == id })
			return i >= 0 && mask&(1<<i) != 0
		}
		s := newRefStore(rev, state, m.stateMap, alive, ttl, m.minTTL)
		s.hash, s.compacted = m.hashKV, -1
		if a := chk.answer; a != nil && a.HashKV != nil {
			s.compacted = a.HashKV.CompactRevision
		}
		out := refOutcome{}
		for i, f := range chk.leases {
			if f.sure && mask&(1<<i) == 0 {
				out.gone = append(out.gone, f)
			}
		}
		if chk.call.cmd != nil {
			resp, err := s.command(chk.call.cmd)
			out.text = describeReply(&kv.Reply{Response: m.adopt(chk, resp), Err: err})
		} else {
			a := s.query(chk.call.query)
			out.text = describeAnswer(m.adoptAnswer(chk, &a))
		}
		out.wrote, out.events = s.wrote, s.events
		outs = append(outs, out)
		if c := chk.call.cmd; c != nil && c.Compaction != nil && s.rev >= c.Compaction.Revision {
			// The compacted revision is not the client's to know: refusing is as good.
			outs = append(outs, refOutcome{text: describeReply(&kv.Reply{Err: kv.ErrCompacted}), gone: out.gone})
		}
	}
	return outs
}

// adopt fills in what the store chooses and etcd leaves open: a new lease's ID.
func (m *mvccClient) adopt(chk mvccCheck, resp kv.Response) kv.Response {
	if g, got := resp.LeaseGrant, chk.reply.LeaseGrant; g != nil && got != nil && g.ID == 0 && got.ID > 0 {
		c := *g
		c.ID = got.ID
		resp.LeaseGrant = &c
	}
	return resp
}

// adoptAnswer fills in the remaining TTL, which only the leader's clock knows: whole
// seconds left, rounded down, from 0 to the granted TTL. (Not below it: a leader's clock
// moves in ticks, so an answer in the tick that set the deadline, by a renewal or by the
// leader's promotion, reports the whole TTL.) Anything else matches no answer: the
// reference's is then -2.
func (m *mvccClient) adoptAnswer(chk mvccCheck, a *kv.Answer) *kv.Answer {
	t, got := a.TimeToLive, chk.answer.TimeToLive
	if t == nil || t.TTL < 0 {
		return a
	}
	c := *t
	c.TTL = -2
	if got != nil && got.TTL >= 0 && got.TTL <= t.GrantedTTL {
		c.TTL = got.TTL
	}
	a.TimeToLive = &c
	return a
}

// requestLeases lists the leases whose existence decides a request's outcome.
func requestLeases(c *mvccCall) []kv.LeaseID {
	var ids []kv.LeaseID
	var txn func(t *kv.TxnRequest)
	txn = func(t *kv.TxnRequest) {
		for _, ops := range [][]kv.RequestOp{t.Success, t.Failure} {
			for _, op := range ops {
				switch {
				case op.Put != nil && op.Put.Lease != 0:
					ids = append(ids, op.Put.Lease)
				case op.Txn != nil:
					txn(op.Txn)
				}
			}
		}
	}
	switch {
	case c.cmd != nil && c.cmd.Put != nil && c.cmd.Put.Lease != 0:
		ids = append(ids, c.cmd.Put.Lease)
	case c.cmd != nil && c.cmd.Txn != nil:
		txn(c.cmd.Txn)
	case c.cmd != nil && c.cmd.LeaseRevoke != nil:
		ids = append(ids, c.cmd.LeaseRevoke.ID)
	case c.cmd != nil && c.cmd.LeaseGrant != nil && c.cmd.LeaseGrant.ID != 0:
		ids = append(ids, c.cmd.LeaseGrant.ID)
	case c.query != nil && c.query.KeepAlive != 0:
		ids = append(ids, c.query.KeepAlive)
	case c.query != nil && c.query.TimeToLive != nil:
		ids = append(ids, c.query.TimeToLive.ID)
	}
	return ids
}

// stateMap is the replayed store at rev: every watched key present then.
func (m *mvccClient) stateMap(rev int64) map[string]kv.KeyValue {
	out := map[string]kv.KeyValue{}
	//det:unordered builds a map: each key's entry is independent of the others
	for key := range m.replay {
		if s := m.stateAt(key, rev); s != nil {
			out[key] = *s
		}
	}
	return out
}

// sameEvents reports whether the stream's revision rev holds exactly the reference's
// events, each key's new version whole (value, lease, versions, revisions).
func (m *mvccClient) sameEvents(rev int64, evs []kv.Event) bool {
	if revisionLine(rev, eventTexts(evs)) != m.released[rev] {
		return false
	}
	for _, ev := range evs {
		if ev.Type != kv.EventPut {
			continue
		}
		if s := m.stateAt(string(ev.KV.Key), rev); s == nil || !sameKV(*s, ev.KV) {
			return false
		}
	}
	return true
}

// expired completes the final operation once no key holds one of the client's leases:
// without keep-alives every one must expire.
func (m *mvccClient) expired() []component.Effect {
	if m.expire == nil {
		return nil
	}
	if !m.lost {
		//det:unordered only asks whether any key still holds a lease of the client's
		for _, e := range m.stateMap(m.last) {
			if _, mine := m.leases[e.Lease]; mine && e.Lease != 0 {
				return nil
			}
		}
	}
	id := m.expire.ID
	m.expire = nil
	return []component.Effect{component.Complete{OpID: id, Outcome: component.OK, Value: component.Null()}}
}

func (m *mvccClient) wrongf(format string, args ...any) []component.Effect {
	if m.failed {
		return nil
	}
	m.failed = true
	return []component.Effect{component.Observe{Kind: "mvcc-wrong", Value: fmt.Sprintf(format, args...)}}
}

func (m *mvccClient) flushObs() []component.Effect {
	out := m.obs
	m.obs = nil
	return out
}

// describeCall renders a request for messages.
func describeCall(c *mvccCall) string {
	if c.query != nil {
		return fmt.Sprintf("%s %s", c.op.F, describeQuery(c.query))
	}
	return fmt.Sprintf("%s %s", c.op.F, describeCommand(c.cmd))
}

func describeResult(chk mvccCheck) string {
	if chk.reply != nil {
		return describeReply(chk.reply)
	}
	return describeAnswer(chk.answer)
}
