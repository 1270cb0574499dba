package member

import (
	"github.com/orrery/orrery/host/driver"
	"github.com/orrery/orrery/host/front"
	"github.com/orrery/orrery/node/kvserver"
	"github.com/orrery/orrery/node/rsm"
)

// PeerAddr is the address the peer transport listens on.
func (m *Member) PeerAddr() string { return m.link.Addr().String() }

// Done is closed when the member stops; Err says why.
func (m *Member) Done() <-chan struct{} { return m.drv.Done() }

// Err is the reason the member stopped (nil after Stop).
func (m *Member) Err() error {
	<-m.closed
	return m.drv.Err()
}

// Stop stops the member. Unsynced writes are dropped, as a crash would drop them; that
// loses nothing acknowledged, because acknowledgements wait for their sync.
func (m *Member) Stop() {
	m.drv.Stop()
	<-m.closed
}

// Caller calls the member's server through its front (the etcd API does:
// host/etcdapi/memberapi).
func (m *Member) Caller() *front.Caller { return m.caller }

// Config is the member's configuration, with the defaults filled in and the ID its
// identity gave it.
func (m *Member) Config() Config { return m.cfg }

// ClusterID identifies the cluster by its initial membership, as etcd derives it; a
// member that joined learned it from the cluster.
func (m *Member) ClusterID() uint64 { return m.clusterID }

// DBSize is the size of the member's storage in bytes.
func (m *Member) DBSize() int64 { return m.disk.Size() }

// Table is the member table as last applied here, or the members known before one was.
func (m *Member) Table() []rsm.Member { return m.link.Table() }

// Faults injects faults into the member's clock (which decides lease expiry on a leader)
// and syncs. Only for fault-injection tests.
func (m *Member) Faults() *driver.Faults { return &m.faults }

// Do runs f on the member's loop goroutine, between inputs, and waits for it (for reads
// of the server's or the application's state); false if the member stopped first.
func (m *Member) Do(f func(*rsm.Server, *kvserver.App)) bool {
	done := make(chan struct{})
	if !m.drv.Do(func() { f(m.srv, m.app); close(done) }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-m.closed: // the loop has exited: f ran, or never will
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// ClientURLs returns the client URLs member id announced (nil if not heard yet).
func (m *Member) ClientURLs(id uint64) []string {
	var urls []string
	m.Do(func(srv *rsm.Server, _ *kvserver.App) {
		if a, ok := srv.Announced(id); ok {
			urls = a.ClientURLs
		}
	})
	return urls
}
