package kvserver

import (
	"fmt"
	"time"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
)

// expiryRetry is how long the leader waits before proposing the expiry of a lease again:
// a proposal can be lost with a leadership change, and a lease still past its deadline
// must not live forever, but proposing it at every tick would flood the log.
const expiryRetry = time.Second

// App is one member's application. It implements rsm.Application, rsm.Streamer,
// rsm.Local, rsm.Timed and rsm.Noter.
type App struct {
	cfg      kv.Config
	store    *kv.Store
	lessor   *kv.Lessor
	now      time.Duration
	leader   bool
	proposed map[kv.LeaseID]time.Duration // expiries in flight, by when proposed
	watches  map[uint64]int64             // client -> its watch on this member's hub
	owners   map[int64]uint64             // watch -> client
	notes    []rsm.Note
	marks    []component.Effect // probes and fault points since the last Marks
	holdExp  time.Duration      // expiries wait until then (a fired FaultDelayExpiry)
	lastPush uint64             // the client of the latest push (for FaultDropWatch)
}

// The application's fault points and probes (see rsm.Faulty).
const (
	// FaultDelayExpiry: the leader holds back lease expiries for expiryHold, as a busy
	// leader would (expiring late is legal; early is not).
	FaultDelayExpiry = "kvserver.delay-expiry"
	// FaultDropWatch: the member silently drops the watch of the client it last pushed
	// to, as a member shedding load would; the client must notice the silence and reopen.
	FaultDropWatch = "kvserver.drop-watch"
	// ProbeExpiryRetried: a lease expiry is proposed again, the first one lost.
	ProbeExpiryRetried = "kvserver.expiry-proposed-again"
)

// expiryHold is how long a fired FaultDelayExpiry holds expiries back.
const expiryHold = 300 * time.Millisecond

// Points declares the application's fault points and probes.
var Points = component.Points{
	Fault:  []string{FaultDelayExpiry, FaultDropWatch},
	Probes: []string{ProbeExpiryRetried},
}

// New returns an empty member application.
func New(cfg kv.Config) *App {
	a := &App{cfg: cfg}
	a.reset(kv.New(cfg))
	return a
}

func (a *App) reset(s *kv.Store) {
	a.store = s
	a.lessor = kv.NewLessor(a.cfg)
	a.lessor.Reset(s.Leases(), a.now)
	if a.leader {
		a.lessor.Promote(a.now)
	}
	a.proposed = map[kv.LeaseID]time.Duration{}
	a.watches, a.owners = map[uint64]int64{}, map[int64]uint64{}
}

// Store exposes the applied state, for status reports and tests. Callers must not write.
func (a *App) Store() *kv.Store { return a.store }

// Apply implements rsm.Application.
func (a *App) Apply(b []byte) []byte {
	cmd, err := kv.DecodeCommand(b)
	if err != nil {
		// Every member decodes the same bytes the same way, so refusing is deterministic;
		// the client learns its command was malformed.
		return kv.EncodeReply(kv.Result{Err: kv.ErrMalformed})
	}
	res := a.store.Apply(cmd)
	a.lessor.Observe(res, a.now)
	if x := res.LeaseExpire; x != nil {
		for _, id := range cmd.LeaseExpire.IDs {
			delete(a.proposed, id)
		}
		for _, id := range x.Revoked {
			a.notes = append(a.notes, rsm.Note{Kind: "lease-expired", Value: fmt.Sprintf("%d rev=%d", id, res.Revision)})
		}
	}
	return kv.EncodeReply(res)
}

// Read implements rsm.Application: a linearizable query, served once the leader's read
// index is applied. Keep-alives come this way so that only a confirmed leader renews.
func (a *App) Read(q []byte) []byte {
	query, err := kv.DecodeQuery(q)
	if err != nil {
		return (&kv.Answer{Err: kv.ErrMalformed}).Encode()
	}
	if query.KeepAlive != 0 {
		ttl, err := a.lessor.Renew(query.KeepAlive, a.now)
		if err != nil {
			return (&kv.Answer{Err: err}).Encode()
		}
		hdr := kv.ResponseHeader{Revision: a.store.Rev()}
		return (&kv.Answer{KeepAlive: &kv.LeaseKeepAliveResponse{Header: hdr, ID: query.KeepAlive, TTL: ttl}}).Encode()
	}
	ans := a.store.Answer(query)
	if t := ans.TimeToLive; t != nil && t.TTL >= 0 && a.lessor.Primary() {
		if left, ok := a.lessor.Remaining(t.ID, a.now); ok {
			t.TTL = left
		}
	}
	return ans.Encode()
}

// LeaderOnly implements rsm.LeaderOnly: keep-alives and time-to-live queries need the
// leader's lessor.
func (a *App) LeaderOnly(q []byte) bool {
	query, err := kv.DecodeQuery(q)
	return err == nil && (query.KeepAlive != 0 || query.TimeToLive != nil)
}

// Local implements rsm.Local: a serializable query from this member's applied state.
// Keep-alives need the leader's confirmed Lessor and are refused here.
func (a *App) Local(q []byte, _ bool) []byte {
	query, err := kv.DecodeQuery(q)
	switch {
	case err != nil:
		return (&kv.Answer{Err: kv.ErrMalformed}).Encode()
	case query.KeepAlive != 0:
		return (&kv.Answer{Err: kv.ErrNotLeader}).Encode()
	}
	ans := a.store.Answer(query)
	return ans.Encode()
}

// Snapshot implements rsm.Application.
func (a *App) Snapshot() []byte { return a.store.Snapshot() }

// Restore implements rsm.Application. The watch hub goes with the old store: its streams
// end and their clients reopen them from the revision they last saw.
func (a *App) Restore(b []byte) error {
	s, err := kv.Restore(b, a.cfg)
	if err != nil {
		return err
	}
	a.reset(s)
	return nil
}

// Now implements rsm.Timed.
func (a *App) Now(now time.Duration) { a.now = now }

// Lead implements rsm.Timed: the Lessor is primary exactly while this member leads.
func (a *App) Lead(leader bool) {
	a.leader = leader
	if leader {
		a.lessor.Promote(a.now)
		a.proposed = map[kv.LeaseID]time.Duration{}
		return
	}
	a.lessor.Demote()
}

// Due implements rsm.Timed: the expired leases not already on their way through raft, as
// one command.
func (a *App) Due() [][]byte {
	var ids []kv.LeaseID
	expired := a.lessor.Expired(a.now)
	if len(expired) == 0 || a.now < a.holdExp {
		return nil
	}
	a.marks = append(a.marks, component.FaultPoint{Name: FaultDelayExpiry})
	for _, id := range expired {
		at, ok := a.proposed[id]
		if ok && a.now-at < expiryRetry {
			continue
		}
		if ok {
			a.marks = append(a.marks, component.Probe{Name: ProbeExpiryRetried})
		}
		a.proposed[id] = a.now
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	cmd := kv.Command{LeaseExpire: &kv.LeaseExpireRequest{IDs: ids}}
	return [][]byte{cmd.Encode()}
}

// Notes implements rsm.Noter.
func (a *App) Notes() []rsm.Note {
	n := a.notes
	a.notes = nil
	return n
}

// ProgressRequest, as a stream request's payload, asks for a progress notification on
// the client's watch (it comes once the watch has caught up). No encoded WatchRequest is
// this short.
var ProgressRequest = []byte{'P'}

// Subscribe implements rsm.Streamer: it opens the client's watch on this member,
// replacing the one it had; an empty query just cancels it, and ProgressRequest asks
// for a progress notification. The reply is an Answer
// whose Range carries only the member's revision.
func (a *App) Subscribe(client uint64, q []byte) []byte {
	if string(q) == string(ProgressRequest) {
		id, ok := a.watches[client]
		if !ok {
			return (&kv.Answer{Err: kv.ErrWatcherNotExist}).Encode()
		}
		if err := a.store.Watches().RequestProgress(id); err != nil {
			return (&kv.Answer{Err: err}).Encode()
		}
		return (&kv.Answer{Range: &kv.RangeResponse{Header: kv.ResponseHeader{Revision: a.store.Rev()}}}).Encode()
	}
	if old, ok := a.watches[client]; ok {
		_ = a.store.Watches().Cancel(old) // it may have been cancelled by a compaction
		delete(a.owners, old)
		delete(a.watches, client)
	}
	hdr := kv.ResponseHeader{Revision: a.store.Rev()}
	if len(q) == 0 {
		return (&kv.Answer{Range: &kv.RangeResponse{Header: hdr}}).Encode()
	}
	req, err := kv.DecodeWatchRequest(q)
	if err != nil {
		return (&kv.Answer{Err: kv.ErrMalformed}).Encode()
	}
	req.WatchID = 0
	id, err := a.store.Watches().Watch(req)
	if err != nil {
		return (&kv.Answer{Err: err}).Encode()
	}
	a.watches[client], a.owners[id] = id, client
	return (&kv.Answer{Range: &kv.RangeResponse{Header: hdr}}).Encode()
}

// Outbox implements rsm.Streamer.
func (a *App) Outbox() []rsm.Push {
	var out []rsm.Push
	for _, resp := range a.store.Watches().Take() {
		client, ok := a.owners[resp.WatchID]
		if !ok {
			continue
		}
		if resp.Canceled {
			delete(a.owners, resp.WatchID)
			delete(a.watches, client)
		}
		out = append(out, rsm.Push{Client: client, Data: kv.EncodeWatchResponse(resp)})
		a.lastPush = client
	}
	if len(out) > 0 {
		a.marks = append(a.marks, component.FaultPoint{Name: FaultDropWatch})
	}
	return out
}

// Marks implements rsm.Faulty.
func (a *App) Marks() []component.Effect {
	m := a.marks
	a.marks = nil
	return m
}

// Fire implements rsm.Faulty.
func (a *App) Fire(name string) {
	switch name {
	case FaultDelayExpiry:
		a.holdExp = a.now + expiryHold
	case FaultDropWatch:
		if id, ok := a.watches[a.lastPush]; ok {
			_ = a.store.Watches().Cancel(id)
			delete(a.owners, id)
			delete(a.watches, a.lastPush)
		}
	}
}
