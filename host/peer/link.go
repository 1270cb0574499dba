package peer

import (
	"cmp"
	"crypto/tls"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/orrery/orrery/host/tcp"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/rsm"
)

// Config describes a member's peer link.
type Config struct {
	ID, ClusterID uint64
	// Known are the members known before the server tells its table: the initial members
	// and a joiner's contacts (rsm.Identity).
	Known []rsm.Member
	// Listen is the address to listen on (default: the host and port of this member's
	// peer URL in Known).
	Listen string
	TLS    *tls.Config
	// Input hands a received message to the server's driver (host/driver's Input).
	Input  func(in c.Input) bool
	Logger *slog.Logger
}

// Link is a member's peer link: who the transport talks to and accepts frames from. Those
// are the members of the table as last applied, plus the initial members and a joiner's
// contacts; members leave it only by an explicit removal, because a member that is
// catching up applies old tables, which may lack members added since. Its methods are safe
// for concurrent use.
type Link struct {
	cfg Config
	tr  *tcp.Transport

	mu      sync.RWMutex
	members map[uint64]rsm.Member
	table   []rsm.Member
}

// Listen starts the link's transport.
func Listen(cfg Config) (*Link, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Link{cfg: cfg, members: map[uint64]rsm.Member{}}
	l.add(cfg.Known)
	if cfg.Listen == "" {
		cfg.Listen = addrOf(l.members[cfg.ID])
	}
	addrs := map[uint64]string{}
	for id, x := range l.members {
		if id != cfg.ID {
			addrs[id] = addrOf(x)
		}
	}
	tr, err := tcp.New(tcp.Config{ID: cfg.ID, Listen: cfg.Listen, Peers: addrs, TLS: cfg.TLS, Logger: cfg.Logger,
		Deliver: l.deliver, Answer: l.answer})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.tr = tr
	l.mu.Unlock()
	return l, nil
}

// Addr is the address the transport listens on.
func (l *Link) Addr() net.Addr { return l.tr.Addr() }

// Close closes the transport.
func (l *Link) Close() error { return l.tr.Close() }

// Send frames a message for a peer; it is the driver's Config.Send. A message with no
// wire form is a bug in the server.
func (l *Link) Send(to c.NodeID, msg c.Message) {
	b, err := rsm.EncodeMessage(msg)
	if err != nil {
		l.cfg.Logger.Error("unencodable message", "err", err)
		return
	}
	if !l.tr.Send(uint64(to), b) {
		l.cfg.Logger.Debug("peer queue full or unknown; message dropped", "peer", uint64(to))
	}
}

// deliver is the transport's callback (any goroutine). The transport accepts any sender
// that names this member in its hello, so frames from IDs outside the cluster are
// dropped here: a stranger must not forward requests, announce or remove anyone.
func (l *Link) deliver(from uint64, payload []byte) {
	l.mu.RLock()
	_, ok := l.members[from]
	l.mu.RUnlock()
	if !ok {
		l.cfg.Logger.Warn("dropped peer frame: sender is not a member of the cluster", "from", from)
		return
	}
	msg, err := rsm.DecodeMessage(payload)
	if err != nil {
		l.cfg.Logger.Warn("bad peer message", "from", from, "err", err)
		return
	}
	l.cfg.Input(c.Receive{From: c.NodeID(from), Msg: msg})
}

// answer is the transport's Config.Answer: a joiner's question about the cluster.
func (l *Link) answer(q []byte) []byte {
	return rsm.AnswerMembersQuery(q, l.cfg.ClusterID, l.Table())
}

// SetTable takes the member table the server applied (rsm.MembersChanged): its members
// become peers.
func (l *Link) SetTable(ms []rsm.Member) {
	l.mu.Lock()
	l.table = ms
	l.mu.Unlock()
	l.add(ms)
}

func (l *Link) add(ms []rsm.Member) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range ms {
		old, known := l.members[x.ID]
		l.members[x.ID] = x
		addr := addrOf(x)
		if known && addrOf(old) == addr || l.tr == nil || addr == "" || x.ID == l.cfg.ID {
			continue
		}
		_ = l.tr.SetPeer(x.ID, addr) // a malformed address stays unreachable
	}
}

// Remove forgets member id (rsm.MemberRemoved): its frames are dropped from now on, and its
// transport peer goes after grace, so that what was sent to it can still leave.
func (l *Link) Remove(id uint64, grace time.Duration) {
	l.mu.Lock()
	delete(l.members, id)
	l.mu.Unlock()
	time.AfterFunc(grace, func() { _ = l.tr.RemovePeer(id) })
}

// Table is the member table as last applied, or the members known before one was.
func (l *Link) Table() []rsm.Member {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.table) > 0 {
		return l.table
	}
	out := make([]rsm.Member, 0, len(l.members))
	for _, x := range l.members {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b rsm.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// addrOf is where a member's first peer URL points (host:port).
func addrOf(x rsm.Member) string {
	if len(x.PeerURLs) == 0 {
		return ""
	}
	if u, err := url.Parse(x.PeerURLs[0]); err == nil && u.Host != "" {
		return u.Host
	}
	return x.PeerURLs[0]
}
