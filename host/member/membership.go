package member

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/tcp"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/raft"
	"github.com/orrery/orrery/node/rsm"
)

// identityFile holds what a member must know before it can replay its WAL: its ID, the
// cluster ID, the initial members (the seed of the member table and raft's bootstrap
// configuration) and, for a member that joined, the members it learned of when it did.
// Written once, on the first start; later starts ignore Config.ID and Config.Peers for
// these (as etcd ignores --initial-cluster on restart).
const identityFile = "member"

type identity struct {
	id, clusterID uint64
	initial       []rsm.Member // the cluster's initial members; none for a member that joined
	contacts      []rsm.Member // a joined member's view of the cluster when it joined
}

func (id identity) encode() []byte {
	b := binary.AppendUvarint([]byte{1}, id.id)
	b = binary.AppendUvarint(b, id.clusterID)
	for _, ms := range [][]rsm.Member{id.initial, id.contacts} {
		t := rsm.EncodeMembers(ms)
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

var errBadIdentity = errors.New("member: malformed identity record")

func decodeIdentity(b []byte) (identity, error) {
	var id identity
	if len(b) == 0 || b[0] != 1 {
		return id, errBadIdentity
	}
	b = b[1:]
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	id.id, id.clusterID = next(), next()
	for _, dst := range []*[]rsm.Member{&id.initial, &id.contacts} {
		n := next()
		if n > uint64(len(b)) {
			return id, errBadIdentity
		}
		ms, err := rsm.DecodeMembers(b[:n])
		if err != nil {
			return id, fmt.Errorf("%w: %w", errBadIdentity, err)
		}
		*dst, b = ms, b[n:]
	}
	if id.id == 0 {
		return id, errBadIdentity
	}
	return id, nil
}

// loadIdentity finds who this member is: from the data dir, or for a first start from
// the config (a new cluster) or from the running cluster (Join). It records a new identity
// in the data dir; the server's first sync makes it durable.
func (m *Member) loadIdentity(d *disk.Disk, rec c.Recovery) (identity, error) {
	if recs := rec.Files[identityFile]; len(recs) > 0 {
		return decodeIdentity(recs[len(recs)-1])
	}
	var id identity
	hasWAL := len(rec.Files) > 0
	switch {
	case m.cfg.Join && !hasWAL:
		joined, err := m.discover()
		if err != nil {
			return id, err
		}
		id = joined
	default:
		// A new cluster, or a data dir written before identities were recorded.
		if !slices.ContainsFunc(m.cfg.Peers, func(p Peer) bool { return p.ID == m.cfg.ID }) {
			return id, fmt.Errorf("member %d is not in the initial cluster", m.cfg.ID)
		}
		id = identity{id: m.cfg.ID, clusterID: clusterIDOf(m.cfg.Peers), initial: peersToMembers(m.cfg.Peers)}
	}
	d.Append(identityFile, id.encode())
	return id, nil
}

func peersToMembers(ps []Peer) []rsm.Member {
	var out []rsm.Member
	for _, p := range ps {
		out = append(out, rsm.Member{ID: p.ID, Name: p.Name, PeerURLs: []string{p.PeerURL()}})
	}
	slices.SortFunc(out, func(a, b rsm.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func memberToPeer(x rsm.Member) Peer {
	p := Peer{ID: x.ID, Name: x.Name}
	if len(x.PeerURLs) > 0 {
		p.URL = x.PeerURLs[0]
		p.Addr = hostPort(p.URL)
	}
	return p
}

func hostPort(u string) string {
	if pu, err := url.Parse(u); err == nil && pu.Host != "" {
		return pu.Host
	}
	return u
}

// clusterIDOf identifies a cluster by its initial membership, as etcd derives it.
func clusterIDOf(peers []Peer) uint64 {
	h := fnv.New64a()
	for _, p := range peers {
		h.Write([]byte(strconv.FormatUint(p.ID, 10) + "=" + p.Name + "=" + p.PeerURL() + ";"))
	}
	return h.Sum64()
}

// queryMembers is the one question a member answers on its peer port (tcp.Query).
const queryMembers = "members"

// answer implements tcp.Config.Answer: the cluster ID and the member table.
func (m *Member) answer(q []byte) []byte {
	if string(q) != queryMembers {
		return nil
	}
	b := binary.AppendUvarint(nil, m.clusterID)
	return append(b, rsm.EncodeMembers(m.peers.tableOrPeers())...)
}

// discover asks the members in Config.Peers for the member table until one lists this
// member's peer URL (etcdctl member add must have run), and returns the identity found.
func (m *Member) discover() (identity, error) {
	self, ok := m.selfPeer()
	if !ok {
		return identity{}, fmt.Errorf("member %d is not in the given cluster list", m.cfg.ID)
	}
	want := self.PeerURL()
	deadline := time.Now().Add(m.joinTimeout())
	err := fmt.Errorf("no other member to ask in the cluster list")
	for {
		for _, p := range m.cfg.Peers {
			if p.PeerURL() == want {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			b, qerr := tcp.Query(ctx, p.Addr, m.cfg.PeerTLS, []byte(queryMembers))
			cancel()
			if qerr != nil {
				err = fmt.Errorf("ask %s: %w", p.Addr, qerr)
				continue
			}
			cid, n := binary.Uvarint(b)
			table, derr := rsm.DecodeMembers(b[max(n, 0):])
			if n <= 0 || derr != nil {
				err = fmt.Errorf("ask %s: bad answer", p.Addr)
				continue
			}
			for _, x := range table {
				if slices.Contains(x.PeerURLs, want) {
					return identity{id: x.ID, clusterID: cid, contacts: table}, nil
				}
			}
			err = fmt.Errorf("the cluster (asked %s) has no member with peer URL %s: add it first (etcdctl member add %s --peer-urls=%s)", p.Addr, want, self.Name, want)
		}
		if time.Now().After(deadline) {
			return identity{}, fmt.Errorf("join: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (m *Member) joinTimeout() time.Duration {
	if m.cfg.JoinTimeout > 0 {
		return m.cfg.JoinTimeout
	}
	return 10 * time.Second
}

func (m *Member) selfPeer() (Peer, bool) {
	i := slices.IndexFunc(m.cfg.Peers, func(p Peer) bool { return p.ID == m.cfg.ID })
	if i < 0 {
		return Peer{}, false
	}
	return m.cfg.Peers[i], true
}

// peerSet is who this member talks to and accepts frames from: the members of the
// table as last applied, plus the initial members and a joiner's contacts. Members leave
// it only by an explicit removal: a member that is catching up applies old tables, which
// may lack members added since.
type peerSet struct {
	mu    sync.RWMutex
	m     map[uint64]Peer
	table []rsm.Member
	tr    *tcp.Transport
}

func (ps *peerSet) add(ms []rsm.Member, self uint64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, x := range ms {
		p := memberToPeer(x)
		old, known := ps.m[x.ID]
		ps.m[x.ID] = p
		if known && old.Addr == p.Addr || ps.tr == nil || p.Addr == "" || x.ID == self {
			continue
		}
		_ = ps.tr.SetPeer(x.ID, p.Addr) // a malformed address stays unreachable
	}
}

func (ps *peerSet) setTable(ms []rsm.Member, self uint64) {
	ps.mu.Lock()
	ps.table = ms
	ps.mu.Unlock()
	ps.add(ms, self)
}

// remove forgets member id; its transport peer goes after grace.
func (ps *peerSet) remove(id uint64, grace time.Duration) {
	ps.mu.Lock()
	delete(ps.m, id)
	tr := ps.tr
	ps.mu.Unlock()
	time.AfterFunc(grace, func() { _ = tr.RemovePeer(id) })
}

func (ps *peerSet) has(id uint64) bool {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	_, ok := ps.m[id]
	return ok
}

func (ps *peerSet) get(id uint64) Peer {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return ps.m[id]
}

func (ps *peerSet) addrs(self uint64) map[uint64]string {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	out := map[uint64]string{}
	for id, p := range ps.m {
		if id != self {
			out[id] = p.Addr
		}
	}
	return out
}

// tableOrPeers is the replicated member table, or the peers known when it is not known.
func (ps *peerSet) tableOrPeers() []rsm.Member {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	if len(ps.table) > 0 {
		return ps.table
	}
	var out []rsm.Member
	for _, p := range ps.m {
		out = append(out, rsm.Member{ID: p.ID, Name: p.Name, PeerURLs: []string{p.PeerURL()}})
	}
	slices.SortFunc(out, func(a, b rsm.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// confChange asks the leader for a membership change and returns the table after it.
// A change refused because another one is in progress is retried until ctx ends.
func (m *Member) confChange(ctx context.Context, cc raft.ConfChange, x rsm.Member) ([]rsm.Member, error) {
	for {
		b, err := m.do(ctx, rsm.ConfChangeRequest(cc, x))
		if err != nil {
			return nil, err
		}
		ms, err := rsm.DecodeConfChangeResult(b)
		if !errors.Is(err, rsm.ErrConfChangePending) {
			return ms, err
		}
		select {
		case <-time.After(m.cfg.Tick):
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-m.drv.Done():
			return nil, ErrStopped
		}
	}
}

// newMemberID draws an ID for a member being added: random and not in use. (It stays
// below 2^24, as IDs did when client IDs carried their member's.)
func newMemberID(taken []rsm.Member) uint64 {
	for {
		id := 1<<16 + rand.Uint64N(1<<24-1<<16)
		if !slices.ContainsFunc(taken, func(x rsm.Member) bool { return x.ID == id }) {
			return id
		}
	}
}
