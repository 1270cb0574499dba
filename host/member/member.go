package member

import (
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/driver"
	"github.com/orrery/orrery/host/front"
	"github.com/orrery/orrery/host/metrics"
	"github.com/orrery/orrery/host/peer"
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

// PeerURL is the member's advertised peer URL.
func (p Peer) PeerURL() string {
	if p.URL != "" {
		return p.URL
	}
	return "http://" + p.Addr
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

// Member runs one server: the deterministic rsm.Server with the kv application on the
// generic host driver, a bbolt disk and the TCP peer link. Requests reach the server
// through its front (Caller).
type Member struct {
	cfg       Config
	log       *slog.Logger
	srv       *rsm.Server
	app       *kvserver.App
	disk      *disk.Disk
	link      *peer.Link
	drv       *driver.Driver
	caller    *front.Caller
	clusterID uint64
	faults    driver.Faults
	closed    chan struct{} // closed once the disk and the transport are released
	status    atomic.Pointer[Status]
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
	cfg.Logger = cmpOr(cfg.Logger, slog.Default())
	m := &Member{cfg: cfg, closed: make(chan struct{})}
	d, err := disk.Open(cfg.DataDir, disk.Options{})
	if err != nil {
		return nil, err
	}
	rec, id, err := m.open(d)
	if err != nil {
		d.Close()
		return nil, err
	}
	m.drv = driver.New(driver.Config{
		Component: observed{m}, Disk: d, Notice: m.notice, Logger: m.log,
		Send:  func(to c.NodeID, msg c.Message) { m.link.Send(to, msg) },
		Local: func(msg c.Message) { m.caller.Local(msg) },
		Clock: m.faults.Clock(), Sync: m.faults.Sync(metrics.ObserveSync),
	})
	m.caller = front.New(m.drv, m.log)
	m.link, err = peer.Listen(peer.Config{ID: id.ID, ClusterID: id.ClusterID, Known: slices.Concat(id.Initial, id.Contacts),
		Listen: cfg.ListenPeer, TLS: cfg.PeerTLS, Input: m.drv.Input, Logger: m.log})
	if err != nil {
		d.Close()
		return nil, err
	}
	m.drv.Start(rec)
	go func() {
		defer close(m.closed)
		m.drv.Err() // the loop has exited: nothing uses the transport or the disk now
		m.link.Close()
		d.Close()
		m.caller.Close()
	}()
	return m, nil
}

// open recovers the data dir and builds the server from the member's identity.
func (m *Member) open(d *disk.Disk) (c.Recovery, rsm.Identity, error) {
	cfg := m.cfg
	rec, err := d.Recover()
	if err != nil {
		return rec, rsm.Identity{}, err
	}
	if len(rec.Corrupt) > 0 {
		cr := rec.Corrupt[0]
		return rec, rsm.Identity{}, fmt.Errorf("data dir %s: record %d of %s fails its checksum: refusing to start on damaged data (restore the member from a snapshot or remove and re-add it)", cfg.DataDir, cr.Index, cr.File)
	}
	self, _ := m.selfPeer() // by the configured ID, which a joiner's identity replaces
	id, err := m.loadIdentity(d, rec)
	if err != nil {
		return rec, id, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	m.cfg.ID, m.clusterID = id.ID, id.ClusterID
	m.log = cfg.Logger.With("member", id.ID)
	var ids []c.NodeID
	for _, x := range id.Initial {
		ids = append(ids, c.NodeID(x.ID))
	}
	m.disk = d
	m.app = kvserver.New(kv.Config{MinLeaseTTL: cfg.Store.MinLeaseTTL, MaxTxnOps: cfg.Store.MaxTxnOps, Bugs: cfg.Bugs})
	seed := fnv.New64a()
	fmt.Fprintf(seed, "%d %d", id.ID, time.Now().UnixNano())
	m.srv = rsm.NewServer(rsm.Config{
		ID: c.NodeID(id.ID), Peers: ids, Members: id.Initial, Tick: cfg.Tick, ElectionTick: cfg.ElectionTicks, HeartbeatTick: 1,
		SnapshotEvery: cfg.SnapshotEvery, Keep: 5000, FollowerReads: true, NewApp: func() rsm.Application { return m.app }, Bugs: cfg.Bugs,
		Name: self.Name, ClientURLs: cfg.ClientURLs,
	}, rand.New(rand.NewPCG(seed.Sum64(), id.ID)))
	return rec, id, nil
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
	metrics.ObserveRaft(s.Commit, s.Applied)
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
		metrics.ObserveRole(n.Leader)
	case rsm.Refused:
		m.drv.Halt(fmt.Errorf("data dir %s: %s", m.cfg.DataDir, n.Reason))
	case rsm.MembersChanged:
		m.log.Info("membership changed", "members", n.String())
		m.link.SetTable(n.Members)
	case rsm.MemberRemoved:
		// The removed member was sent its notice in the same batch; keep its peer a
		// little, so that the notice and the last answers leave.
		m.link.Remove(n.ID, 2*time.Duration(m.cfg.ElectionTicks)*m.cfg.Tick)
	}
}
