package driver

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	c "github.com/orrery/orrery/node/component"
)

// Local is the address of the callers on this host (a gRPC front, a CLI): a Send to it is
// handed to Config.Local instead of the transport, and their inputs arrive From it.
const Local c.NodeID = 0

// Disk is the component disk: appends and removes are buffered until Sync makes them
// durable. Append and Remove run on the loop goroutine, Sync on the syncer's; the disk
// must allow that (host/disk does).
type Disk interface {
	Append(file string, record []byte)
	Remove(file string)
	Sync() error
}

// Config is what a driver executes effects with. Send, Local and Notice run on the loop
// goroutine and must not block it.
type Config struct {
	Component c.Component
	Disk      Disk
	// Send transmits a message to another node (the transport: encode, frame, queue).
	Send func(to c.NodeID, msg c.Message)
	// Local takes a message addressed to Local.
	Local func(msg c.Message)
	// Notice takes the component's notices (role, membership, refusal); nil ignores them.
	Notice func(n c.Notice)
	// Clock is the component's local clock; it must never run backwards.
	Clock func() time.Duration
	// Sync wraps each disk sync (fault injection, metrics); nil calls Disk.Sync.
	Sync   func(sync func() error) error
	Logger *slog.Logger
}

// Driver runs one component. Build it with New, then Start it.
type Driver struct {
	cfg    Config
	inbox  chan func()
	done   chan struct{}
	exited chan struct{}
	once   sync.Once
	err    error

	// Owned by the loop goroutine.
	timers map[int]*time.Timer
	gen    map[int]uint64
	syncs  chan uint64
}

// New builds a driver for cfg; Start runs it. Inputs handed in before Start wait, and
// reach the component after the start input, so that the effect executors (a transport's
// receiver, local callers) can hold the driver before it runs.
func New(cfg Config) *Driver {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sync == nil {
		cfg.Sync = func(sync func() error) error { return sync() }
	}
	return &Driver{cfg: cfg, inbox: make(chan func(), 4096), done: make(chan struct{}), exited: make(chan struct{}),
		timers: map[int]*time.Timer{}, gen: map[int]uint64{}, syncs: make(chan uint64, 1024)}
}

// Start delivers the start input with rec and runs the loop until Stop or a Halt. Call it
// once.
func (d *Driver) Start(rec c.Recovery) {
	syncerDone := make(chan struct{})
	go d.syncer(syncerDone)
	go d.loop(rec, syncerDone)
}

// Input hands in to the component (from any goroutine); false if the driver stopped.
func (d *Driver) Input(in c.Input) bool {
	return d.Do(func() { d.handle(in) })
}

// InputFunc runs f on the loop goroutine and hands the input it returns to the
// component, for inputs that must be numbered in the order the component sees them;
// false if the driver stopped.
func (d *Driver) InputFunc(f func() c.Input) bool {
	return d.Do(func() { d.handle(f()) })
}

// Do runs f on the loop goroutine, between inputs (for reads of the component's state);
// false if the driver stopped.
func (d *Driver) Do(f func()) bool {
	select {
	case d.inbox <- f:
		return true
	case <-d.done:
		return false
	}
}

// Done is closed when the driver stops; Err then says why (nil after Stop).
func (d *Driver) Done() <-chan struct{} { return d.done }

// Err waits for the loop to exit and returns why it stopped.
func (d *Driver) Err() error {
	<-d.exited
	return d.err
}

// Stop stops the loop and waits for it. Unsynced writes are the disk's to drop.
func (d *Driver) Stop() {
	d.halt(nil)
	<-d.exited
}

// Halt stops the loop with err, as a component's Halt does.
func (d *Driver) Halt(err error) { d.halt(err) }

func (d *Driver) halt(err error) {
	d.once.Do(func() {
		d.err = err
		close(d.done)
	})
}

func (d *Driver) loop(rec c.Recovery, syncerDone chan struct{}) {
	defer close(d.exited)
	defer func() {
		for _, t := range d.timers {
			t.Stop()
		}
		close(d.syncs)
		<-syncerDone
	}()
	d.handle(c.Start{Disk: rec})
	for {
		select {
		case f := <-d.inbox:
			f()
		case <-d.done:
			return
		}
	}
}

func (d *Driver) handle(in c.Input) {
	select {
	case <-d.done:
		return
	default:
	}
	d.execute(d.cfg.Component.Handle(d.cfg.Clock(), in))
}

func (d *Driver) execute(effs []c.Effect) {
	for _, e := range effs {
		switch e := e.(type) {
		case c.Send:
			if e.To == Local {
				d.cfg.Local(e.Msg)
			} else {
				d.cfg.Send(e.To, e.Msg)
			}
		case c.SetTimer:
			d.setTimer(e.ID, e.After)
		case c.CancelTimer:
			d.gen[e.ID]++
			if t := d.timers[e.ID]; t != nil {
				t.Stop()
			}
		case c.Append:
			d.cfg.Disk.Append(e.File, e.Record)
		case c.Remove:
			d.cfg.Disk.Remove(e.File)
		case c.Sync:
			d.syncs <- e.ID
		case c.Halt:
			d.cfg.Logger.Warn("component halts", "reason", e.Reason)
			d.halt(errors.New(e.Reason))
			return
		case c.Notice:
			if d.cfg.Notice != nil {
				d.cfg.Notice(e)
			}
		}
		// Observe, CrashPoint, FaultPoint and Probe are the simulator's.
	}
}

func (d *Driver) setTimer(id int, after time.Duration) {
	d.gen[id]++
	g := d.gen[id]
	if t := d.timers[id]; t != nil {
		t.Stop()
	}
	d.timers[id] = time.AfterFunc(after, func() {
		d.Do(func() {
			if d.gen[id] == g {
				d.handle(c.TimerFired{ID: id})
			}
		})
	})
}

// syncer runs the syncs in order, off the loop goroutine.
func (d *Driver) syncer(done chan struct{}) {
	defer close(done)
	for id := range d.syncs {
		err := d.cfg.Sync(d.cfg.Disk.Sync)
		d.Input(c.Synced{ID: id, Err: err})
	}
}
