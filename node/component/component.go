package component

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"time"
)

// NodeID names a node of a world: servers are 1..N, clients follow them.
type NodeID int

func (id NodeID) String() string { return fmt.Sprintf("n%d", int(id)) }

// Message is a payload carried between nodes. String must be deterministic (no pointers, map
// keys in sorted order): it feeds the trace hash and the printed trace.
type Message interface {
	String() string
}

// Component is a deterministic state machine hosted by a world (or, later, by a real host).
// The driver calls Handle with one input at a time and executes the returned effects; a
// component never performs I/O, reads a clock or starts goroutines. now is the node's local
// clock (skewed and drifting in the simulator), counted from the world's start.
//
// The returned slice belongs to the driver.
type Component interface {
	Handle(now time.Duration, in Input) []Effect
}

// Input is something that happens to a component. The kinds below are the ones every
// driver knows; a component may receive its own kinds too (the result of a pod start, a
// route programmed), delivered by the driver's outside world. String must be
// deterministic: it feeds the simulator's trace.
type Input interface {
	fmt.Stringer
}

// Effect is something a component asks its driver to do. The kinds below are the ones every
// driver executes; a component may define its own (start a pod, add a route), which the
// simulator hands to its System's Outside and the real host to the matching runtime.
type Effect interface {
	fmt.Stringer
}

// Start is the first input after the process (re)starts. Disk holds what survived.
type Start struct {
	Disk Recovery
}

// Receive delivers a message from a peer or a client.
type Receive struct {
	From NodeID
	Msg  Message
}

// TimerFired reports that the timer set with this ID expired (and was not cancelled or reset).
type TimerFired struct {
	ID int
}

// Synced reports that every disk write issued before the Sync with this ID is durable,
// or that the sync failed (Err != nil); after a failed sync the unsynced writes are in an
// unknown state, as after Linux's fsync error, and the component should Halt.
type Synced struct {
	ID  uint64
	Err error
}

// Invoke asks a client component to perform one operation. The component answers with a
// Complete effect carrying the same ID, or never (the world then times the operation out).
type Invoke struct {
	Op Op
}

// Cancel tells a client component the world gave up on the operation (it timed out and was
// recorded as indefinite); late results for it are ignored.
type Cancel struct {
	OpID uint64
}

// Op is a client operation: its function name F (get, put, cas, ...), the key it touches
// and its payload.
type Op struct {
	ID    uint64
	F     string
	Key   string
	Value Value
}

// Send transmits Msg to node To over the simulated network.
type Send struct {
	To  NodeID
	Msg Message
}

// SetTimer arms (or re-arms) timer ID to fire after After on the node's local clock.
type SetTimer struct {
	ID    int
	After time.Duration
}

// CancelTimer disarms timer ID; cancelling an unarmed timer is a no-op.
type CancelTimer struct {
	ID int
}

// Append adds one record to the end of File. It is durable only after a later Sync completes.
type Append struct {
	File   string
	Record []byte
}

// Remove deletes File. Like Append it is durable only after a later Sync completes.
type Remove struct {
	File string
}

// Sync asks for every write issued so far to be made durable; Synced{ID} follows.
type Sync struct {
	ID uint64
}

// Complete answers an Invoke. Outcome is OK, Fail (definitely not done) or Info (unknown:
// the world then treats the operation as timed out). A component that cannot know the
// outcome may instead not complete and let the world's timeout record it as indefinite.
type Complete struct {
	OpID    uint64
	Outcome Outcome
	Value   Value
}

// Halt crashes the node on purpose (a failed fsync, detected corruption it cannot repair).
// The world restarts it later like any crashed node.
type Halt struct {
	Reason string
}

// Observe reports a fact for checkers (an entry applied at an index, a lock granted) without
// affecting the run. The simulator records observations in its result; a real host may log
// them. Kind names the fact, Value describes it deterministically.
// Drivers never act on an Observe: what a driver must know comes as a typed effect
// (see Notice).
type Observe struct {
	Kind  string
	Value string
}

// CrashPoint marks a place where a crash is interesting (between a write and its sync,
// after applying but before telling anyone). The simulator may crash the process right
// there, dropping the effects that follow it in the same batch; a real host ignores it.
// Name says which point, for coverage reports.
type CrashPoint struct {
	Name string
}

// FaultPoint marks a place where the component could do something rare but legal (sync
// slowly, start an election nobody needed, drop a cache or a stream) if its driver asks it
// to: FoundationDB's BUGGIFY, kept sans-I/O. The simulator may answer with a FaultFired
// input of the same Name, delivered right after the batch that marked the point and
// before any other input; the component then misbehaves as the point's name promises. A
// real host ignores it and never fires one. Name says which point, for coverage reports.
type FaultPoint struct {
	Name string
}

// FaultFired tells a component that the driver fired the fault point Name it marked in
// the batch just executed.
type FaultFired struct {
	Name string
}

// Probe reports that the component reached a rare path (a snapshot installed on a
// follower, a redirect with no leader known) without affecting the run: the simulator
// counts probes for its coverage report, and a test fails when a declared probe is never
// reached. Probes and unfired fault points do not enter the trace.
type Probe struct {
	Name string
}

// Points declares the crash points, fault points and probes a component marks, for the
// coverage reports that list every declared point with its count.
type Points struct {
	Crash, Fault, Probes []string
}

// With returns the union of two declarations, each list in the order first seen.
func (p Points) With(o Points) Points {
	add := func(a, b []string) []string {
		out := append([]string(nil), a...)
		for _, x := range b {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	return Points{Crash: add(p.Crash, o.Crash), Fault: add(p.Fault, o.Fault), Probes: add(p.Probes, o.Probes)}
}

func (s Start) String() string {
	return fmt.Sprintf("start files=%d corrupt=%d torn=%d", len(s.Disk.Files), len(s.Disk.Corrupt), s.Disk.Torn)
}
func (r Receive) String() string    { return fmt.Sprintf("recv from=%s %s", r.From, r.Msg) }
func (t TimerFired) String() string { return fmt.Sprintf("timer %d", t.ID) }
func (s Synced) String() string {
	if s.Err != nil {
		return fmt.Sprintf("synced %d err=%v", s.ID, s.Err)
	}
	return fmt.Sprintf("synced %d", s.ID)
}
func (i Invoke) String() string { return "invoke " + i.Op.String() }
func (c Cancel) String() string { return fmt.Sprintf("cancel op=%d", c.OpID) }
func (o Op) String() string {
	return fmt.Sprintf("op=%d %s %q %s", o.ID, o.F, o.Key, o.Value)
}

func (s Send) String() string        { return fmt.Sprintf("send to=%s %s", s.To, s.Msg) }
func (s SetTimer) String() string    { return fmt.Sprintf("set-timer %d %v", s.ID, s.After) }
func (c CancelTimer) String() string { return fmt.Sprintf("cancel-timer %d", c.ID) }
func (a Append) String() string {
	return fmt.Sprintf("append %s %dB crc=%08x", a.File, len(a.Record), crc32.ChecksumIEEE(a.Record))
}
func (r Remove) String() string { return "remove " + r.File }
func (s Sync) String() string   { return fmt.Sprintf("sync %d", s.ID) }
func (c Complete) String() string {
	return fmt.Sprintf("complete op=%d %s %s", c.OpID, c.Outcome, c.Value)
}
func (h Halt) String() string       { return "halt: " + h.Reason }
func (o Observe) String() string    { return "observe " + o.Kind + " " + o.Value }
func (p CrashPoint) String() string { return "crash-point " + p.Name }
func (p FaultPoint) String() string { return "fault-point " + p.Name }
func (f FaultFired) String() string { return "fault-point fired " + f.Name }
func (p Probe) String() string      { return "probe " + p.Name }

// Recovery is what a node's disk holds when its process starts.
type Recovery struct {
	// Files maps each file to its records, in append order. Only records whose checksum
	// verified are here; the first bad record ends its file.
	Files map[string][][]byte
	// Corrupt lists records that failed their checksum in the middle of a file: data the
	// node once synced and has now lost. A component must not pretend it still has them.
	Corrupt []CorruptRecord
	// Torn counts files whose last record was cut short by the crash (never synced, so
	// nothing acknowledged is lost; dropping it is the right thing to do).
	Torn int
}

// CorruptRecord locates a record that failed verification.
type CorruptRecord struct {
	File  string
	Index int // record number in the file
}

// Factory builds the component for a node each time its process starts. r is the node's
// own seeded random source (derived from the world seed and the node ID, renewed on restart).
type Factory func(id NodeID, r *rand.Rand) Component

// Notice is an effect that tells the driver about the component's state (its role, its
// membership, that it refuses to run) without asking it to do anything in particular: a
// driver acts on the kinds it knows (a real member stops when told it was removed, logs a
// role change) and may ignore the rest. The simulator records every notice as an
// observation of kind "notice".
type Notice interface {
	Effect
	Notice()
}

// RoleChanged tells the driver that the component started (Leader) or stopped leading.
// It is also a hint to the simulator's nemesis, which prefers leaders as targets for
// crashes, pauses, clock jumps and the small side of partitions.
type RoleChanged struct {
	Leader bool
}

func (RoleChanged) Notice() {}
func (r RoleChanged) String() string {
	if r.Leader {
		return "role leader"
	}
	return "role follower"
}
