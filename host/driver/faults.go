package driver

import (
	"errors"
	"sync/atomic"
	"time"
)

// Faults are real-world faults a test injects into a driver (the Jepsen harness's nemesis
// does, through a daemon's fault admin): a skewed clock, stalled syncs, a failing sync.
// The driver uses them through Clock and Sync. Its methods are safe for concurrent use;
// the zero value injects nothing.
type Faults struct {
	clockSkew atomic.Int64 // nanoseconds added to the local clock
	syncStall atomic.Int64 // nanoseconds every sync waits first
	syncFail  atomic.Bool  // the next sync fails
}

// SkewClock shifts the clock (which decides lease expiry on a leader) by d from now on; a
// negative d holds the clock still until real time catches up.
func (f *Faults) SkewClock(d time.Duration) { f.clockSkew.Add(int64(d)) }

// StallSyncs makes every sync wait d first (0 ends it), like a stalled disk.
func (f *Faults) StallSyncs(d time.Duration) { f.syncStall.Store(int64(d)) }

// FailNextSync makes the next sync fail, as a failing fsync does (a member then halts, as
// etcd does, rather than carry on with state it cannot make durable).
func (f *Faults) FailNextSync() { f.syncFail.Store(true) }

// Clock returns a Config.Clock: monotonic time since this call, plus the injected skew. It
// never runs backwards, whatever the skew does. The driver calls it on its loop goroutine.
func (f *Faults) Clock() func() time.Duration {
	start := time.Now()
	var last time.Duration
	return func() time.Duration {
		t := time.Since(start) + time.Duration(f.clockSkew.Load())
		if t < last {
			return last
		}
		last = t
		return t
	}
}

// Sync returns a Config.Sync that runs each sync with the injected faults and hands its
// latency to observe (if set).
func (f *Faults) Sync(observe func(time.Duration)) func(sync func() error) error {
	return func(sync func() error) error {
		if d := time.Duration(f.syncStall.Load()); d > 0 {
			time.Sleep(d)
		}
		start := time.Now()
		err := sync()
		if f.syncFail.CompareAndSwap(true, false) {
			err = errors.New("injected fsync failure")
		}
		if observe != nil {
			observe(time.Since(start))
		}
		return err
	}
}
