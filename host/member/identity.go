package member

import (
	"fmt"
	"slices"

	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/peer"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/rsm"
)

// loadIdentity finds who this member is (rsm.Identity): from the data dir, or for a first
// start from the config (a new cluster) or from the running cluster (Join). It records a
// new identity in the data dir; the server's first sync makes it durable.
func (m *Member) loadIdentity(d *disk.Disk, rec c.Recovery) (rsm.Identity, error) {
	if id, ok, err := rsm.RecordedIdentity(rec); ok || err != nil {
		return id, err
	}
	var id rsm.Identity
	var err error
	if m.cfg.Join && len(rec.Files) == 0 {
		id, err = m.join()
	} else {
		// A new cluster, or a data dir written before identities were recorded.
		var initial []rsm.Member
		for _, p := range m.cfg.Peers {
			initial = append(initial, rsm.Member{ID: p.ID, Name: p.Name, PeerURLs: []string{p.PeerURL()}})
		}
		id, err = rsm.NewIdentity(m.cfg.ID, initial)
	}
	if err != nil {
		return id, err
	}
	d.Append(rsm.IdentityFile, id.Encode())
	return id, nil
}

// join asks the members in Config.Peers for the member table until one lists this
// member's peer URL (etcdctl member add must have run): rsm's Joiner decides, peer.Join
// asks.
func (m *Member) join() (rsm.Identity, error) {
	self, ok := m.selfPeer()
	if !ok {
		return rsm.Identity{}, fmt.Errorf("member %d is not in the given cluster list", m.cfg.ID)
	}
	cfg := rsm.JoinConfig{Name: self.Name, PeerURL: self.PeerURL(), Timeout: m.cfg.JoinTimeout}
	for _, p := range m.cfg.Peers {
		cfg.Contacts = append(cfg.Contacts, rsm.Contact{Addr: p.Addr, PeerURL: p.PeerURL()})
	}
	return peer.Join(cfg, m.cfg.PeerTLS, m.cfg.Logger)
}

func (m *Member) selfPeer() (Peer, bool) {
	i := slices.IndexFunc(m.cfg.Peers, func(p Peer) bool { return p.ID == m.cfg.ID })
	if i < 0 {
		return Peer{}, false
	}
	return m.cfg.Peers[i], true
}
