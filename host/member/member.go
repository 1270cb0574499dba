package member

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/driver"
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
	// ClientURLs are this member's advertised client URLs; members announce theirs to
	// each other (rsm.Announce), for member lists.
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

// ErrStopped is returned for requests to a member that has stopped.
var ErrStopped = errors.New("member stopped")

// ErrNoLeader: no leader is known, or the leader did not answer in time.
var ErrNoLeader = errors.New("etcdserver: no leader")

// Member runs one server: the deterministic rsm.Server with the kv application on the
// generic host driver, a bbolt disk and the TCP transport. Requests enter the server as
// rsm.Call inputs from driver.Local; the server answers each with one rsm.Answer.
type Member struct {
	cfg       Config
	log       *slog.Logger
	srv       *rsm.Server
	app       *kvserver.App
	disk      *disk.Disk
	tr        *tcp.Transport
	drv       *driver.Driver
	start     time.Time
	clusterID uint64
	peers     peerSet

	lastCall uint64 // owned by the loop goroutine
	mu       sync.Mutex
	calls    map[uint64]chan rsm.Answer
	streams  map[uint64]chan []byte
	watchers map[<-chan kv.WatchResponse]uint64 // Watch's channels -> their stream's call

	closed  chan struct{} // closed once the disk and the transport are released
	status  atomic.Pointer[Status]
	faults  faults
	lastNow time.Duration // owned by the loop goroutine
}

// Status is a snapshot of the member's raft state, refreshed after every input.
type Status struct {
	ID, Leader, Term, Commit, Applied uint64
	Revision                          int64
	IsLeader                          bool
}

// Start opens the data dir, recovers the WAL and starts the member. The data dir lock
// makes a second process on the same directory fail here.
func Start(cfg Config) (*Member, error) {
	cfg.Tick = cmpOr(cfg.Tick, 100*time.Millisecond)
	cfg.ElectionTicks = cmpOr(cfg.ElectionTicks, 10)
	cfg.SnapshotEvery = cmpOr(cfg.SnapshotEvery, 10000)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Member{cfg: cfg, peers: peerSet{m: map[uint64]Peer{}}, closed: make(chan struct{}),
		calls: map[uint64]chan rsm.Answer{}, streams: map[uint64]chan []byte{}, watchers: map[<-chan kv.WatchResponse]uint64{}}
	d, err := disk.Open(cfg.DataDir, disk.Options{})
	if err != nil {
		return nil, err
	}
	rec, err := m.open(d)
	if err != nil {
		d.Close()
		return nil, err
	}
	if err := m.listen(); err != nil {
		d.Close()
		return nil, err
	}
	m.start = time.Now()
	m.drv = driver.Start(driver.Config{
		Component: observed{m}, Disk: d, Send: m.send, Local: m.local, Notice: m.notice,
		Clock: m.now, Sync: m.syncWithFaults, Logger: m.log,
	}, rec)
	go func() {
		defer close(m.closed)
		m.drv.Err() // the loop has exited: nothing uses the transport or the disk now
		m.tr.Close()
		d.Close()
		m.closeStreams()
	}()
	return m, nil
}

// open recovers the data dir and builds the server from the member's identity.
func (m *Member) open(d *disk.Disk) (c.Recovery, error) {
	cfg := m.cfg
	rec, err := d.Recover()
	if err != nil {
		return rec, err
	}
	if len(rec.Corrupt) > 0 {
		cr := rec.Corrupt[0]
		return rec, fmt.Errorf("data dir %s: record %d of %s fails its checksum: refusing to start on damaged data (restore the member from a snapshot or remove and re-add it)", cfg.DataDir, cr.Index, cr.File)
	}
	self, _ := m.selfPeer() // by the configured ID, which a joiner's identity replaces
	id, err := m.loadIdentity(d, rec)
	if err != nil {
		return rec, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	m.cfg.ID, m.clusterID = id.id, id.clusterID
	m.log = cfg.Logger.With("member", id.id)
	m.peers.add(id.initial, id.id)
	m.peers.add(id.contacts, id.id)
	var ids []c.NodeID
	for _, x := range id.initial {
		ids = append(ids, c.NodeID(x.ID))
	}
	m.disk = d
	m.app = kvserver.New(kv.Config{MinLeaseTTL: cfg.Store.MinLeaseTTL, MaxTxnOps: cfg.Store.MaxTxnOps, Bugs: cfg.Bugs})
	seed := fnv.New64a()
	fmt.Fprintf(seed, "%d %d", id.id, time.Now().UnixNano())
	m.srv = rsm.NewServer(rsm.Config{
		ID: c.NodeID(id.id), Peers: ids, Members: id.initial, Tick: cfg.Tick, ElectionTick: cfg.ElectionTicks, HeartbeatTick: 1,
		SnapshotEvery: cfg.SnapshotEvery, Keep: 5000, FollowerReads: true, NewApp: func() rsm.Application { return m.app }, Bugs: cfg.Bugs,
		Name: self.Name, ClientURLs: cfg.ClientURLs,
	}, rand.New(rand.NewPCG(seed.Sum64(), id.id)))
	return rec, nil
}

func (m *Member) listen() error {
	listen := m.cfg.ListenPeer
	if listen == "" {
		listen = m.peers.get(m.cfg.ID).Addr
	}
	tr, err := tcp.New(tcp.Config{ID: m.cfg.ID, Listen: listen, Peers: m.peers.addrs(m.cfg.ID), TLS: m.cfg.PeerTLS, Logger: m.log, Deliver: m.deliver, Answer: m.answer})
	m.tr = tr
	m.peers.tr = tr
	return err
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// observed refreshes the member's status after every input the server handles.
type observed struct{ m *Member }

func (o observed) Handle(now time.Duration, in c.Input) []c.Effect {
	effs := o.m.srv.Handle(now, in)
	o.m.refreshStatus()
	return effs
}

func (m *Member) refreshStatus() {
	st, ok := m.srv.BasicStatus()
	if !ok {
		return
	}
	s := &Status{
		ID: m.cfg.ID, Leader: st.SoftState.Lead, Term: st.HardState.Term, Commit: st.HardState.Commit,
		Applied: st.Applied, Revision: m.app.Store().Rev(), IsLeader: st.SoftState.Role == raft.RoleLeader,
	}
	m.status.Store(s)
	applyLag.Set(float64(s.Commit - min(s.Applied, s.Commit)))
	committedIndex.Set(float64(s.Commit))
}

// Status returns the member's latest raft state.
func (m *Member) Status() Status {
	if s := m.status.Load(); s != nil {
		return *s
	}
	return Status{ID: m.cfg.ID}
}

// notice acts on the server's notices (on the loop goroutine).
func (m *Member) notice(n c.Notice) {
	switch n := n.(type) {
	case c.RoleChanged:
		role := "follower"
		if n.Leader {
			role = "leader"
		}
		m.log.Info("role changed", "role", role)
		observeRole(role)
	case rsm.Refused:
		m.drv.Halt(fmt.Errorf("data dir %s: %s", m.cfg.DataDir, n.Reason))
	case rsm.MembersChanged:
		m.log.Info("membership changed", "members", n.String())
		m.peers.setTable(n.Members, m.cfg.ID)
	case rsm.MemberRemoved:
		// The removed member was sent its notice in the same batch; keep its peer a
		// little, so that the notice and the last answers leave.
		m.peers.remove(n.ID, 2*time.Duration(m.cfg.ElectionTicks)*m.cfg.Tick)
	}
}

// send frames a message for a peer. A message with no wire form is a bug in the server.
func (m *Member) send(to c.NodeID, msg c.Message) {
	b, err := rsm.EncodeMessage(msg)
	if err != nil {
		m.log.Error("unencodable message", "err", err)
		return
	}
	if !m.tr.Send(uint64(to), b) {
		m.log.Debug("peer queue full or unknown; message dropped", "peer", uint64(to))
	}
}

// deliver is the transport's callback (any goroutine). The transport accepts any sender
// that names this member in its hello, so frames from IDs outside the cluster are
// dropped here: a stranger must not forward requests, announce or remove anyone.
func (m *Member) deliver(from uint64, payload []byte) {
	if !m.peers.has(from) {
		m.log.Warn("dropped peer frame: sender is not a member of the cluster", "from", from)
		return
	}
	msg, err := rsm.DecodeMessage(payload)
	if err != nil {
		m.log.Warn("bad peer message", "from", from, "err", err)
		return
	}
	m.drv.Input(c.Receive{From: c.NodeID(from), Msg: msg})
}

// local hands an answer or a push to the caller waiting here (on the loop goroutine).
func (m *Member) local(msg c.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch msg := msg.(type) {
	case rsm.Answer:
		if ch := m.calls[msg.ID]; ch != nil {
			delete(m.calls, msg.ID)
			ch <- msg
		}
	case rsm.Pushed:
		ch := m.streams[msg.Stream]
		if ch == nil {
			return
		}
		select {
		case ch <- msg.Data:
		default:
			// A watcher that does not keep up loses its stream (etcd cancels slow
			// watchers too); the API layer reopens it from its last revision.
			close(ch)
			delete(m.streams, msg.Stream)
			m.server(rsm.Abandon{ID: msg.Stream})
		}
	}
}

// server hands a caller's message to the server, as from driver.Local.
func (m *Member) server(msg c.Message) bool {
	return m.drv.Input(c.Receive{From: driver.Local, Msg: msg})
}

// call runs one request through the server and waits for its answer. The call's ID is
// drawn on the loop goroutine, so the server sees its calls numbered in order (it takes a
// call numbered below an earlier one for a copy). stream, if set, is registered under the
// ID before the server can push to it. When ctx ends first, the call is abandoned: the
// answer then says whether it never left (no leader) or its outcome is unknown.
func (m *Member) call(ctx context.Context, req rsm.Request, of uint64, stream chan []byte) (uint64, []byte, error) {
	ch := make(chan rsm.Answer, 1)
	idc := make(chan uint64, 1)
	if !m.drv.InputFunc(func() c.Input {
		m.lastCall++
		id := m.lastCall
		m.mu.Lock()
		m.calls[id] = ch
		if stream != nil {
			m.streams[id] = stream
			watchStreams.Set(float64(len(m.streams)))
		}
		m.mu.Unlock()
		idc <- id
		return c.Receive{From: driver.Local, Msg: rsm.Call{ID: id, Of: of, Req: req}}
	}) {
		return 0, nil, ErrStopped
	}
	var id uint64
	select {
	case id = <-idc:
	case <-m.drv.Done():
		return 0, nil, ErrStopped
	}
	select {
	case a := <-ch:
		return id, a.Result, a.Err
	case <-ctx.Done():
	case <-m.drv.Done():
		return id, nil, ErrStopped
	}
	m.server(rsm.Abandon{ID: id})
	select {
	case a := <-ch:
		if errors.Is(a.Err, rsm.ErrNoLeader) {
			return id, nil, ErrNoLeader
		}
		if a.Err == nil {
			return id, a.Result, nil
		}
	case <-m.drv.Done():
		return id, nil, ErrStopped
	}
	return id, nil, ctx.Err()
}

func (m *Member) do(ctx context.Context, req rsm.Request) ([]byte, error) {
	_, b, err := m.call(ctx, req, 0, nil)
	return b, err
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
	b, err := m.do(ctx, rsm.Request{Read: !serializable, Local: serializable, Payload: q.Encode()})
	observeRequest("read", err)
	if err != nil {
		return kv.Answer{}, err
	}
	return kv.DecodeAnswer(b)
}

// Watch opens a watch on this member. The channel carries its responses and is closed
// when ctx ends, the member stops, or the watcher falls too far behind.
func (m *Member) Watch(ctx context.Context, req kv.WatchRequest) (<-chan kv.WatchResponse, error) {
	raw := make(chan []byte, 1024)
	id, b, err := m.call(ctx, rsm.Request{Stream: true, Payload: kv.EncodeWatchRequest(req)}, 0, raw)
	if err == nil {
		var a kv.Answer
		if a, err = kv.DecodeAnswer(b); err == nil {
			err = a.Err
		}
	}
	if err != nil {
		if id != 0 {
			m.dropStream(id)
		}
		return nil, err
	}
	out := make(chan kv.WatchResponse, 16)
	m.mu.Lock()
	m.watchers[out] = id
	m.mu.Unlock()
	go m.relay(ctx, id, raw, out)
	return out, nil
}

func (m *Member) relay(ctx context.Context, id uint64, raw <-chan []byte, out chan kv.WatchResponse) {
	defer close(out)
	defer m.dropStream(id)
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
}

// dropStream forgets a watch here and closes it on the server.
func (m *Member) dropStream(id uint64) {
	m.mu.Lock()
	if ch := m.streams[id]; ch != nil {
		close(ch)
		delete(m.streams, id)
	}
	watchStreams.Set(float64(len(m.streams)))
	m.mu.Unlock()
	m.server(rsm.Abandon{ID: id})
}

func (m *Member) closeStreams() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, ch := range m.streams {
		close(ch)
		delete(m.streams, id)
	}
}

// RequestProgress asks the watch whose channel is ch for a progress notification; it
// arrives on ch once every event before it has.
func (m *Member) RequestProgress(ch <-chan kv.WatchResponse) error {
	m.mu.Lock()
	stream, ok := m.watchers[ch]
	m.mu.Unlock()
	if !ok {
		return kv.ErrWatcherNotExist
	}
	go func() { // the progress arrives on the stream; the call's answer says nothing more
		ctx, cancel := context.WithTimeout(context.Background(), m.requestTimeout())
		defer cancel()
		_, _, _ = m.call(ctx, rsm.Request{Stream: true, Payload: kvserver.ProgressRequest}, stream, nil)
	}()
	return nil
}
