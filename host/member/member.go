package member

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/tcp"
	"github.com/orrery/orrery/node/bugs"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
)

// Peer is one member of the initial cluster.
type Peer struct {
	ID   uint64
	Name string
	Addr string // peer address host:port
	URL  string // advertised peer URL ("": http://Addr)
}

// Config describes the member to run. ID and Peers matter on the first start only: the
// data dir then records the member's identity, and later starts take it from there.
type Config struct {
	ID      uint64
	Peers   []Peer // every member of the cluster, this one included
	DataDir string
	// Join makes a member whose data dir is empty join a running cluster (etcd's
	// --initial-cluster-state existing) instead of bootstrapping one: it asks the members
	// in Peers for the member table, finds itself there by its peer URL (its entry in
	// Peers is the one with ID; that ID is then replaced by the one the cluster gave it when
	// it was added) and starts with no raft configuration, waiting for the leader.
	// JoinTimeout bounds the asking (default 10 s).
	Join        bool
	JoinTimeout time.Duration
	// ListenPeer is the address the peer transport listens on (default: this member's
	// Addr in Peers).
	ListenPeer string
	PeerTLS    *tls.Config
	// ClientURLs are this member's advertised client URLs; members tell each other
	// theirs over the peer transport, for member lists.
	ClientURLs []string
	// Tick is raft's tick (etcd's heartbeat interval); ElectionTicks is the election
	// timeout in ticks. Defaults: 100ms and 10, as etcd.
	Tick          time.Duration
	ElectionTicks int
	// SnapshotEvery applied entries the log is compacted behind a snapshot (etcd's
	// --snapshot-count; default 10000).
	SnapshotEvery uint64
	Store         kv.Config
	Bugs          bugs.Set // passed to raft, rsm and kv: for testing real clusters only
	Logger        *slog.Logger
}

// clientShift puts a member's ID in the high bits of the client IDs it hands out, so that
// a reply addressed to a client can be routed back to the member that holds it.
const clientShift = 40

// ErrStopped is returned for requests to a member that has stopped.
var ErrStopped = errors.New("member stopped")

// ErrNoLeader: no leader is known, or the leader did not answer in time.
var ErrNoLeader = errors.New("etcdserver: no leader")

// Member runs one server: the deterministic rsm.Server with the kv application, driven by
// wall-clock timers, a bbolt disk and the TCP transport. One goroutine (run) owns the
// server; everything else talks to it through the inbox.
type Member struct {
	cfg   Config
	log   *slog.Logger
	srv   *rsm.Server
	app   *kvserver.App
	disk  *disk.Disk
	tr    *tcp.Transport
	start time.Time

	peersMu   sync.RWMutex
	peers     map[uint64]Peer // the members this one talks to and accepts frames from
	table     []rsm.Member    // the replicated member table, as of the last change applied
	clusterID uint64
	removing  atomic.Bool // this member was removed and stops soon

	inbox    chan func()
	done     chan struct{} // closed to stop
	exited   chan struct{} // closed when run has released the disk and the transport
	stopOnce sync.Once
	err      error // why run ended; read after done is closed

	// Owned by the run goroutine.
	timers map[int]*time.Timer
	gen    map[int]uint64

	nextClient atomic.Uint64
	mu         sync.Mutex
	waiting    map[uint64]chan c.Message          // client -> its one reply
	streams    map[uint64]chan []byte             // client -> watch pushes
	watchers   map[<-chan kv.WatchResponse]uint64 // Watch's channels -> their client

	syncs      chan uint64
	syncerDone chan struct{}

	status atomic.Pointer[Status]
	urls   map[uint64][]string // members' client URLs, as they announced them (under mu)
	names  map[uint64]string   // members' names, as they announced them (under mu)

	faults    faults
	lastNow   time.Duration // owned by the run goroutine
	forwarded recentIDs     // client IDs of forwarded requests lately received
}

// recentIDs remembers IDs seen in the last forwardMemory. TCP does not duplicate frames,
// but a reconnecting transport, a proxy or a fault injector may; a forwarded write must
// not be proposed twice.
type recentIDs struct {
	mu    sync.Mutex
	at    map[uint64]time.Time
	purge time.Time
}

const forwardMemory = time.Minute

func (r *recentIDs) seen(id uint64, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[uint64]time.Time{}
	}
	if now.Sub(r.purge) > forwardMemory {
		for k, t := range r.at {
			if now.Sub(t) > forwardMemory {
				delete(r.at, k)
			}
		}
		r.purge = now
	}
	if _, ok := r.at[id]; ok {
		return true
	}
	r.at[id] = now
	return false
}

// Status is a snapshot of the member's raft state, refreshed by the run loop.
type Status struct {
	ID, Leader, Term, Commit, Applied uint64
	Revision                          int64
	IsLeader                          bool
}

// Start opens the data dir, recovers the WAL and starts the member. The data dir lock
// makes a second process on the same directory fail here.
func Start(cfg Config) (*Member, error) {
	if cfg.Tick == 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.ElectionTicks == 0 {
		cfg.ElectionTicks = 10
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Member{
		cfg: cfg, log: cfg.Logger.With("member", cfg.ID), peers: map[uint64]Peer{},
		inbox: make(chan func(), 4096), done: make(chan struct{}), exited: make(chan struct{}),
		timers: map[int]*time.Timer{}, gen: map[int]uint64{},
		waiting: map[uint64]chan c.Message{}, streams: map[uint64]chan []byte{},
		watchers: map[<-chan kv.WatchResponse]uint64{},
		syncs:    make(chan uint64, 1024), syncerDone: make(chan struct{}),
		urls: map[uint64][]string{}, names: map[uint64]string{},
	}
	// Client IDs start at a boot-time nonce so that requests of a previous incarnation,
	// still in a leader's waiting table, are never confused with new ones.
	m.nextClient.Store(uint64(time.Now().UnixNano()) & (1<<(clientShift-8) - 1))

	d, err := disk.Open(cfg.DataDir, disk.Options{})
	if err != nil {
		return nil, err
	}
	rec, err := d.Recover()
	if err != nil {
		d.Close()
		return nil, err
	}
	if len(rec.Corrupt) > 0 {
		d.Close()
		cr := rec.Corrupt[0]
		return nil, fmt.Errorf("data dir %s: record %d of %s fails its checksum: refusing to start on damaged data (restore the member from a snapshot or remove and re-add it)", cfg.DataDir, cr.Index, cr.File)
	}
	self, hasSelf := m.selfPeer() // by the configured ID, which a joiner's identity replaces
	id, err := m.loadIdentity(d, rec)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	m.cfg.ID, cfg.ID, m.clusterID = id.id, id.id, id.clusterID
	m.log = cfg.Logger.With("member", cfg.ID)
	m.urls[cfg.ID] = cfg.ClientURLs
	if hasSelf {
		m.names[cfg.ID] = self.Name
	}
	m.addPeers(id.initial)
	m.addPeers(id.contacts)
	var ids []c.NodeID
	for _, x := range id.initial {
		ids = append(ids, c.NodeID(x.ID))
	}
	m.disk = d
	m.app = kvserver.New(kv.Config{MinLeaseTTL: cfg.Store.MinLeaseTTL, MaxTxnOps: cfg.Store.MaxTxnOps, Bugs: cfg.Bugs})
	seed := fnv.New64a()
	fmt.Fprintf(seed, "%d %d", cfg.ID, time.Now().UnixNano())
	m.srv = rsm.NewServer(rsm.Config{
		ID: c.NodeID(cfg.ID), Peers: ids, Members: id.initial, Tick: cfg.Tick, ElectionTick: cfg.ElectionTicks, HeartbeatTick: 1,
		SnapshotEvery: cfg.SnapshotEvery, Keep: 5000, FollowerReads: true, NewApp: func() rsm.Application { return m.app }, Bugs: cfg.Bugs,
	}, rand.New(rand.NewPCG(seed.Sum64(), cfg.ID)))

	listen := cfg.ListenPeer
	if listen == "" {
		m.peersMu.RLock()
		listen = m.peers[cfg.ID].Addr
		m.peersMu.RUnlock()
	}
	addrs := map[uint64]string{}
	for _, id := range m.peerIDs() {
		m.peersMu.RLock()
		addrs[id] = m.peers[id].Addr
		m.peersMu.RUnlock()
	}
	tr, err := tcp.New(tcp.Config{ID: cfg.ID, Listen: listen, Peers: addrs, TLS: cfg.PeerTLS, Logger: m.log, Deliver: m.deliver, Answer: m.answer})
	if err != nil {
		d.Close()
		return nil, err
	}
	m.tr = tr
	m.start = time.Now()
	go m.syncer()
	go m.run(rec)
	go m.announce()
	return m, nil
}

// announceClient marks a peer frame that carries a member's client URLs rather than a
// message: client IDs are member<<40 | counter, far below it.
const announceClient = ^uint64(0)

// announce tells the peers this member's client URLs, now and then: the transport may
// drop a frame, and a restarted peer has forgotten them.
func (m *Member) announce() {
	payload := binary.AppendUvarint(nil, announceClient)
	m.mu.Lock()
	payload = append(payload, m.names[m.cfg.ID]+"\n"...)
	m.mu.Unlock()
	payload = append(payload, strings.Join(m.cfg.ClientURLs, ",")...)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, id := range m.peerIDs() {
			if id != m.cfg.ID {
				m.tr.Send(id, slices.Clone(payload))
			}
		}
		select {
		case <-t.C:
		case <-m.done:
			return
		}
	}
}

// ClientURLs returns the client URLs member id announced (nil if not heard yet).
func (m *Member) ClientURLs(id uint64) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.urls[id]
}

// PeerAddr is the address the peer transport listens on.
func (m *Member) PeerAddr() string { return m.tr.Addr().String() }

// Done is closed when the member stops; Err says why.
func (m *Member) Done() <-chan struct{} { return m.done }

// Err is the reason the member stopped (nil after Stop).
func (m *Member) Err() error {
	<-m.exited
	return m.err
}

// Stop stops the member. Unsynced writes are dropped, as a crash would drop them; that
// loses nothing acknowledged, because acknowledgements wait for their sync.
func (m *Member) Stop() {
	m.halt(nil)
	<-m.exited
}

func (m *Member) halt(err error) {
	m.stopOnce.Do(func() {
		m.err = err
		close(m.done)
	})
}

// now is the member's local clock: monotonic time since start, plus any skew a test
// injected (SkewClock). It never runs backwards, whatever the skew does.
func (m *Member) now() time.Duration {
	t := time.Since(m.start) + time.Duration(m.faults.clockSkew.Load())
	if t < m.lastNow {
		return m.lastNow
	}
	m.lastNow = t
	return t
}

// faults are test-only injections, for the Jepsen harness's nemesis.
type faults struct {
	clockSkew atomic.Int64 // nanoseconds added to the local clock
	syncStall atomic.Int64 // nanoseconds every sync waits first
	syncFail  atomic.Bool  // the next sync fails
}

// SkewClock shifts the member's local clock (which decides lease expiry on a leader) by
// d from now on; a negative d holds the clock still until real time catches up. Only for
// fault-injection tests.
func (m *Member) SkewClock(d time.Duration) { m.faults.clockSkew.Add(int64(d)) }

// StallSyncs makes every sync wait d first (0 ends it), like a stalled disk. Only for
// fault-injection tests.
func (m *Member) StallSyncs(d time.Duration) { m.faults.syncStall.Store(int64(d)) }

// FailNextSync makes the next sync fail, as a failing fsync does; the member then halts,
// as etcd does, rather than carry on with state it cannot make durable. Only for
// fault-injection tests.
func (m *Member) FailNextSync() { m.faults.syncFail.Store(true) }

// post runs f on the run goroutine; false if the member has stopped.
func (m *Member) post(f func()) bool {
	select {
	case m.inbox <- f:
		return true
	case <-m.done:
		return false
	}
}

func (m *Member) run(rec c.Recovery) {
	defer close(m.exited)
	defer func() {
		for _, t := range m.timers {
			t.Stop()
		}
		m.tr.Close()
		close(m.syncs)
		<-m.syncerDone
		m.disk.Close()
		m.mu.Lock()
		for id, ch := range m.streams {
			close(ch)
			delete(m.streams, id)
		}
		m.mu.Unlock()
	}()
	m.handle(c.Start{Disk: rec})
	m.syncTable()
	for {
		select {
		case f := <-m.inbox:
			f()
		case <-m.done:
			return
		}
	}
}

func (m *Member) handle(in c.Input) {
	select {
	case <-m.done:
		return
	default:
	}
	m.exec(m.srv.Handle(m.now(), in))
	m.refreshStatus()
	if s := m.status.Load(); s != nil {
		applyLag.Set(float64(s.Commit - min(s.Applied, s.Commit)))
		committedIndex.Set(float64(s.Commit))
	}
}

func (m *Member) refreshStatus() {
	st, ok := m.srv.BasicStatus()
	if !ok {
		return
	}
	m.status.Store(&Status{
		ID: m.cfg.ID, Leader: st.SoftState.Lead, Term: st.HardState.Term, Commit: st.HardState.Commit,
		Applied: st.Applied, Revision: m.app.Store().Rev(), IsLeader: st.SoftState.Role == raft.RoleLeader,
	})
}

// Status returns the member's latest raft state.
func (m *Member) Status() Status {
	if s := m.status.Load(); s != nil {
		return *s
	}
	return Status{ID: m.cfg.ID}
}

func (m *Member) exec(effs []c.Effect) {
	for _, e := range effs {
		switch e := e.(type) {
		case c.Send:
			m.send(uint64(e.To), e.Msg)
		case c.SetTimer:
			m.setTimer(e.ID, e.After)
		case c.CancelTimer:
			m.gen[e.ID]++
			if t := m.timers[e.ID]; t != nil {
				t.Stop()
			}
		case c.Append:
			m.disk.Append(e.File, e.Record)
		case c.Remove:
			m.disk.Remove(e.File)
		case c.Sync:
			m.syncs <- e.ID
		case c.Halt:
			if e.Reason == rsm.ReasonRemoved {
				m.haltRemoved() // after a grace period, so that its last answers leave
				continue
			}
			m.log.Error("member halts", "reason", e.Reason)
			m.halt(errors.New(e.Reason))
			return
		case c.Observe:
			m.observe(e)
		}
	}
}

func (m *Member) observe(o c.Observe) {
	switch o.Kind {
	case "role":
		m.log.Info("role changed", "role", o.Value)
		observeRole(o.Value)
	case "refuse":
		m.halt(fmt.Errorf("data dir %s: %s", m.cfg.DataDir, o.Value))
	case "member":
		m.log.Info("membership changed", "members", o.Value)
		m.syncTable()
	case "member-removed":
		if id, err := strconv.ParseUint(o.Value, 10, 64); err == nil {
			m.removed(id)
		}
	case "lease-expired":
		m.log.Debug("lease expired", "lease", o.Value)
	}
}

func (m *Member) setTimer(id int, after time.Duration) {
	m.gen[id]++
	g := m.gen[id]
	if t := m.timers[id]; t != nil {
		t.Stop()
	}
	m.timers[id] = time.AfterFunc(after, func() {
		m.post(func() {
			if m.gen[id] == g {
				m.handle(c.TimerFired{ID: id})
			}
		})
	})
}

// syncer runs the syncs in order, off the run goroutine: the leader's appends go out to
// followers while its own sync runs, and entries proposed meanwhile join the next one.
func (m *Member) syncer() {
	defer close(m.syncerDone)
	for id := range m.syncs {
		if d := time.Duration(m.faults.syncStall.Load()); d > 0 {
			time.Sleep(d)
		}
		start := time.Now()
		err := m.disk.Sync()
		if m.faults.syncFail.CompareAndSwap(true, false) {
			err = errors.New("injected fsync failure")
		}
		observeSync(time.Since(start))
		m.post(func() { m.handle(c.Synced{ID: id, Err: err}) })
	}
}

// send routes a message: raft traffic to a peer; a client's reply to the waiting caller
// here, or over the transport to the member that holds the client.
func (m *Member) send(to uint64, msg c.Message) {
	if rsm.IsPeer(msg) {
		m.transmit(to, 0, msg)
		return
	}
	if owner := to >> clientShift; owner != m.cfg.ID && owner != 0 {
		m.transmit(owner, to, msg)
		return
	}
	m.local(to, msg)
}

// transmit frames msg for a peer: the client it concerns (0 for raft traffic), then the
// message.
func (m *Member) transmit(peer, client uint64, msg c.Message) {
	b, err := rsm.EncodeMessage(msg)
	if err != nil {
		m.log.Error("unencodable message", "err", err)
		return
	}
	frame := binary.AppendUvarint(make([]byte, 0, len(b)+10), client)
	if !m.tr.Send(peer, append(frame, b...)) {
		m.log.Debug("peer queue full or unknown; message dropped", "peer", peer)
	}
}

// deliver is the transport's callback (any goroutine). The transport accepts any sender
// that names this member in its hello, so frames from IDs outside the cluster are
// dropped here: a stranger must not forward requests or announce client URLs.
func (m *Member) deliver(from uint64, payload []byte) {
	if !m.isPeer(from) {
		m.log.Warn("dropped peer frame: sender is not a member of the cluster", "from", from)
		return
	}
	client, n := binary.Uvarint(payload)
	if n <= 0 {
		m.log.Warn("bad peer payload", "from", from)
		return
	}
	if client == announceClient {
		name, list, _ := strings.Cut(string(payload[n:]), "\n")
		var urls []string
		if list != "" {
			urls = strings.Split(list, ",")
		}
		m.mu.Lock()
		m.urls[from], m.names[from] = urls, name
		m.mu.Unlock()
		return
	}
	if client == removedNotice {
		m.log.Warn("told by a member that this one was removed from the cluster", "from", from)
		m.haltRemoved()
		return
	}
	msg, err := rsm.DecodeMessage(payload[n:])
	if err != nil {
		m.log.Warn("bad peer message", "from", from, "err", err)
		return
	}
	switch msg := msg.(type) {
	case rsm.Request:
		// A request another member forwarded to us as leader: answer its client. Each
		// forwarded request has a client ID of its own and no session (seq 0), so a copy
		// of the frame would be proposed again; drop copies here.
		if m.forwarded.seen(msg.Client, time.Now()) {
			m.log.Warn("duplicate forwarded request dropped", "from", from, "client", msg.Client)
			return
		}
		m.post(func() { m.handle(c.Receive{From: c.NodeID(msg.Client), Msg: msg}) })
	case rsm.Reply, rsm.Redirect, rsm.Pushed:
		m.local(client, msg)
	default:
		m.post(func() { m.handle(c.Receive{From: c.NodeID(from), Msg: msg}) })
	}
}

// local hands a reply or a push to the caller waiting here.
func (m *Member) local(client uint64, msg c.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := msg.(rsm.Pushed); ok {
		if ch := m.streams[client]; ch != nil {
			select {
			case ch <- p.Data:
			default:
				// A watcher that does not keep up loses its stream (etcd cancels slow
				// watchers too); the API layer reopens it from its last revision.
				close(ch)
				delete(m.streams, client)
			}
		}
		return
	}
	if ch := m.waiting[client]; ch != nil {
		delete(m.waiting, client)
		ch <- msg
	}
}

func (m *Member) newClient() uint64 {
	return m.cfg.ID<<clientShift | m.nextClient.Add(1)&(1<<clientShift-1)
}

// do sends one request into the cluster and waits for its answer: to this member first,
// then, on a redirect, to the leader over the transport. Only redirects are retried: a
// redirect means the request was not proposed, so resending it cannot apply it twice.
func (m *Member) do(ctx context.Context, req rsm.Request) ([]byte, error) {
	target := m.cfg.ID
	for {
		if !req.Stream { // a stream keeps the client its pushes are addressed to
			req.Client = m.newClient()
		}
		ch := make(chan c.Message, 1)
		m.mu.Lock()
		m.waiting[req.Client] = ch
		m.mu.Unlock()
		if target == m.cfg.ID {
			r := req
			if !m.post(func() { m.handle(c.Receive{From: c.NodeID(r.Client), Msg: r}) }) {
				return nil, ErrStopped
			}
		} else {
			m.transmit(target, req.Client, req)
		}
		select {
		case msg := <-ch:
			switch msg := msg.(type) {
			case rsm.Reply:
				return msg.Result, nil
			case rsm.Redirect:
				if msg.Leader != 0 && msg.Leader != target {
					target = msg.Leader
					continue
				}
				// No leader known (an election is on): wait a little and ask here again.
				target = m.cfg.ID
				select {
				case <-time.After(m.cfg.Tick):
					continue
				case <-ctx.Done():
					return nil, ErrNoLeader
				case <-m.done:
					return nil, ErrStopped
				}
			}
		case <-ctx.Done():
			m.mu.Lock()
			delete(m.waiting, req.Client)
			m.mu.Unlock()
			return nil, ctx.Err()
		case <-m.done:
			return nil, ErrStopped
		}
	}
}

// Write replicates a command and returns its outcome. An error means the outcome is
// unknown (the command may still be applied) or that it was never proposed.
func (m *Member) Write(ctx context.Context, cmd kv.Command) (kv.Reply, error) {
	if err := cmd.Validate(m.cfg.Store); err != nil {
		return kv.Reply{Err: err}, nil
	}
	b, err := m.do(ctx, rsm.Request{Payload: cmd.Encode()})
	observeRequest("write", err)
	if err != nil {
		return kv.Reply{}, err
	}
	return kv.DecodeReply(b)
}

// Query answers a read: linearizable through the leader's ReadIndex, or serializable from
// this member's applied state.
func (m *Member) Query(ctx context.Context, q kv.Query, serializable bool) (kv.Answer, error) {
	req := rsm.Request{Read: !serializable, Local: serializable, Payload: q.Encode()}
	b, err := m.do(ctx, req)
	observeRequest("read", err)
	if err != nil {
		return kv.Answer{}, err
	}
	return kv.DecodeAnswer(b)
}

// Watch opens a watch on this member. The channel carries its responses and is closed
// when ctx ends, the member stops, or the watcher falls too far behind.
func (m *Member) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	client := m.newClient()
	raw := make(chan []byte, 1024)
	m.mu.Lock()
	m.streams[client] = raw
	watchStreams.Set(float64(len(m.streams)))
	m.mu.Unlock()
	b, err := m.do(ctx, rsm.Request{Stream: true, Payload: kv.EncodeWatchRequest(req), Client: client})
	if err != nil {
		m.dropStream(client)
		return nil, err
	}
	if a, err := kv.DecodeAnswer(b); err != nil || a.Err != nil {
		m.dropStream(client)
		return nil, errors.Join(err, a.Err)
	}
	out := make(chan kv.WatchResponse, 16)
	m.mu.Lock()
	m.watchers[out] = client
	m.mu.Unlock()
	go func() {
		defer close(out)
		defer m.dropStream(client)
		defer func() {
			m.mu.Lock()
			delete(m.watchers, out)
			m.mu.Unlock()
		}()
		for {
			select {
			case data, ok := <-raw:
				if !ok {
					return
				}
				resp, err := kv.DecodeWatchResponse(data)
				if err != nil {
					m.log.Error("bad watch response", "err", err)
					return
				}
				select {
				case out <- resp:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// dropStream forgets a watch here and cancels it on the server (an empty stream request
// cancels the client's watch).
func (m *Member) dropStream(client uint64) {
	m.mu.Lock()
	if ch := m.streams[client]; ch != nil {
		close(ch)
		delete(m.streams, client)
	}
	watchStreams.Set(float64(len(m.streams)))
	m.mu.Unlock()
	m.post(func() { m.handle(c.Receive{From: c.NodeID(client), Msg: rsm.Request{Client: client, Stream: true}}) })
}

// RequestProgress asks the watch whose channel is ch for a progress notification; it
// arrives on ch once every event before it has.
func (m *Member) RequestProgress(ch <-chan kv.WatchResponse) error {
	m.mu.Lock()
	client, ok := m.watchers[ch]
	m.mu.Unlock()
	if !ok {
		return kv.ErrWatcherNotExist
	}
	req := rsm.Request{Client: client, Stream: true, Payload: kvserver.ProgressRequest}
	if !m.post(func() { m.handle(c.Receive{From: c.NodeID(client), Msg: req}) }) {
		return ErrStopped
	}
	return nil
}
