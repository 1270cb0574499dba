package peer

import (
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/rsm"
)

// received collects what a link hands its driver.
type received struct {
	mu   sync.Mutex
	msgs []string
}

func (r *received) input(in c.Input) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, in.String())
	return true
}

func (r *received) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m == s {
			return true
		}
	}
	return false
}

func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func listen(t *testing.T, id uint64, known []rsm.Member, r *received) *Link {
	l, err := Listen(Config{ID: id, ClusterID: 7, Known: known, Listen: "127.0.0.1:0", Input: r.input, Logger: slog.Default()})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLinkCarriesMembersMessagesOnly(t *testing.T) {
	var ra, rb received
	a := listen(t, 1, nil, &ra)
	b := listen(t, 2, []rsm.Member{{ID: 1, PeerURLs: []string{"http://" + a.Addr().String()}}}, &rb)
	// a does not know b yet: b's frames are dropped until the table lists it.
	early, err := rsm.EncodeMessage(rsm.Announce{Name: "early"})
	require.NoError(t, err)
	a.deliver(2, early)
	assert.False(t, ra.has("recv from=n2 announce early "))
	a.SetTable([]rsm.Member{{ID: 1, Name: "a"}, {ID: 2, Name: "b", PeerURLs: []string{"http://" + b.Addr().String()}}})
	require.Eventually(t, func() bool {
		b.Send(1, rsm.Announce{Name: "b"})
		return ra.has("recv from=n2 announce b ")
	}, 5*time.Second, 10*time.Millisecond)
	a.Send(2, rsm.RemovedNotice{})
	require.Eventually(t, func() bool { return rb.has("recv from=n1 removed-notice") }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []uint64{1, 2}, []uint64{a.Table()[0].ID, a.Table()[1].ID})
	a.Remove(2, time.Hour)
	ra.mu.Lock()
	n := len(ra.msgs)
	ra.mu.Unlock()
	b.Send(1, rsm.Announce{Name: "gone"})
	time.Sleep(50 * time.Millisecond)
	ra.mu.Lock()
	assert.Len(t, ra.msgs, n, "a removed member's frames are dropped")
	ra.mu.Unlock()
}

func TestJoinAsksTheContacts(t *testing.T) {
	joiner, other := "http://"+deadAddr(t), "http://"+deadAddr(t)
	table := []rsm.Member{{ID: 1, Name: "n1", PeerURLs: []string{"http://127.0.0.1:1"}}, {ID: 0x5eed, PeerURLs: []string{joiner}, Learner: true}}
	var r received
	running := listen(t, 1, table, &r)
	dead := deadAddr(t)
	cfg := rsm.JoinConfig{Name: "n5", PeerURL: joiner, AskTimeout: time.Second, Contacts: []rsm.Contact{
		{Addr: dead, PeerURL: "http://" + dead},
		{Addr: running.Addr().String(), PeerURL: "http://" + running.Addr().String()},
		{Addr: joiner[len("http://"):], PeerURL: joiner},
	}}
	id, err := Join(cfg, nil, slog.Default())
	require.NoError(t, err)
	assert.Equal(t, rsm.Identity{ID: 0x5eed, ClusterID: 7, Contacts: table}, id)

	cfg.PeerURL, cfg.Timeout = other, 100*time.Millisecond
	cfg.Contacts = cfg.Contacts[:2]
	_, err = Join(cfg, nil, slog.Default())
	require.EqualError(t, err, "join: the cluster (asked "+running.Addr().String()+") has no member with peer URL "+other+": "+
		"add it first (etcdctl member add n5 --peer-urls="+other+")")
}
