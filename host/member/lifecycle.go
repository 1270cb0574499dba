package member

import (
	"errors"
	"sync/atomic"
	"time"
)

// PeerAddr is the address the peer transport listens on.
func (m *Member) PeerAddr() string { return m.tr.Addr().String() }

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

// ClientURLs returns the client URLs member id announced (nil if not heard yet).
func (m *Member) ClientURLs(id uint64) []string {
	var urls []string
	done := make(chan struct{})
	if !m.drv.Do(func() {
		defer close(done)
		if a, ok := m.srv.Announced(id); ok {
			urls = a.ClientURLs
		}
	}) {
		return nil
	}
	<-done
	return urls
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

// syncWithFaults runs one sync with the injected faults and records its latency.
func (m *Member) syncWithFaults(sync func() error) error {
	if d := time.Duration(m.faults.syncStall.Load()); d > 0 {
		time.Sleep(d)
	}
	start := time.Now()
	err := sync()
	if m.faults.syncFail.CompareAndSwap(true, false) {
		err = errors.New("injected fsync failure")
	}
	observeSync(time.Since(start))
	return err
}
