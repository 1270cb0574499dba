package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/orrery/orrery/checker/history"
)

// Result is what one run produced.
type Result struct {
	Seed      uint64
	System    string
	Profile   Profile // the fault mix the seed drew
	History   []history.Event
	Faults    []FaultWindow
	TraceHash string
	SimTime   time.Duration
	Events    int
	// Liveness is nil when every final operation completed in time; otherwise it wraps
	// ErrLiveness and says what was stuck.
	Liveness error
	// Observations are the facts components reported (Observe effects), in order.
	Observations []Observation
	// CrashPoints counts how often each crash point was reached (crashed there or not).
	CrashPoints map[string]int
	// FaultPoints counts how often each fault point was reached (fired or not), Probes
	// how often each probe was, and Fired how often each crash point crashed its process
	// and each fault point fired.
	FaultPoints, Probes, Fired map[string]int
	// EmptySyncs counts the fsyncs components asked for with nothing written since their
	// previous one: no harm to safety, but each costs a real disk a flush.
	EmptySyncs int
	FirstEmpty string // the first empty fsync's node and virtual time
	// Cost is what the run spent. Checks pass or fail a run alone; a cost means something
	// only next to the same seed's cost on other code (harness.CompareCosts).
	Cost Cost
	// Script is what the clients and the nemesis of a seeded run did, as a script that
	// Options.Script replays; nil for a scripted run.
	Script *Script
}

// Observation is one reported fact, stamped with when and by which process it was made.
type Observation struct {
	At          time.Duration
	Node        NodeID
	Incarnation int
	Kind, Value string
	// Notice is the notice itself for Kind "notice" (Value is its String), so that
	// invariants read its fields rather than parse its text.
	Notice Notice
}

// node is the world's view of one process.
type node struct {
	id          NodeID
	comp        Component // nil while down
	up, paused  bool
	held        []func() // inputs that arrived while paused, in arrival order
	incarnation int
	timers      map[int]uint64 // armed timer -> generation
	timerGen    uint64
	disk        *disk
	dsk         *rand.Rand // the disk's draws (see streamDisks)
	clock       clock
	server      bool
	leader      bool // the component's latest "role" observation said "leader"
	syncedTo    int  // the disk mark the node's latest Sync covered (-1: none yet)
}

// World runs one seeded simulation. It is single-threaded and deterministic: the same
// System, Options and code give the same events, history and trace hash.
type World struct {
	sys   System
	opts  Options
	prof  Profile
	q     queue
	now   int64
	nodes []*node // index = NodeID; 0 unused
	net   *network
	nem   *rand.Rand
	wl    *rand.Rand
	trace hash.Hash
	line  []byte
	rec   *history.Recorder

	outside      Outside
	out          *rand.Rand
	clients      *clients
	faulting     bool
	windows      []FaultWindow
	open         map[string]int // active episode key -> index in windows
	rotNode      NodeID
	points       map[string]int     // crash points reached, by name
	pointRates   map[string]float64 // each crash point's firing rate in this run
	faultPoints  map[string]int     // fault points reached, by name
	probes       map[string]int     // probes reached, by name
	fired        map[string]int     // crash points that crashed and fault points that fired
	emptySyncs   int                // Syncs issued with nothing written since the node's previous one
	cost         Cost               // Time and Stored are filled in by result
	firstEmpty   string             // the first of them: node and time
	fpRand       map[NodeID]*rand.Rand
	isolated     NodeID // the node a pause episode also cut off, while that cut stands
	events       int
	stormMark    int64
	recent       ring
	observations []Observation
	done         bool
	liveErr      error

	tape        *Script // what a seeded run's clients and nemesis did (nil when scripted)
	play        *player // the script a scripted run follows (nil when seeded)
	partStep    int     // recording: the step of the partition in force, or -1
	rotNext     bool    // scripted: the next crash also rots the node's data
	lastRot     bool    // the last crash rotted the node's data
	faultsEnded int64   // when the fault phase ended
	reachAt     map[reachKey]reachCount
}

// Run executes one world to the end and returns its result.
func Run(sys System, opts Options) (Result, error) {
	if err := sys.Validate(); err != nil {
		return Result{}, err
	}
	w := newWorld(sys, opts.withDefaults())
	w.start()
	w.loop()
	return w.result(), nil
}

func newWorld(sys System, opts Options) *World {
	w := &World{
		sys:         sys,
		opts:        opts,
		prof:        drawProfile(newStream(opts.Seed, streamSwarm), opts.Faults),
		partStep:    -1,
		reachAt:     map[reachKey]reachCount{},
		nem:         newStream(opts.Seed, streamNemesis),
		wl:          newStream(opts.Seed, streamWorkload),
		trace:       sha256.New(),
		rec:         &history.Recorder{},
		open:        map[string]int{},
		points:      map[string]int{},
		pointRates:  map[string]float64{},
		faultPoints: map[string]int{},
		probes:      map[string]int{},
		fired:       map[string]int{},
		fpRand:      map[NodeID]*rand.Rand{},
	}
	if opts.Faults.Swarm && len(opts.Faults.Enabled) > 0 {
		w.prof.On[FaultPoints] = newStream(opts.Seed, streamFaultPoints).IntN(2) == 0
	}
	if opts.Script != nil {
		w.play = newPlayer(opts.Script, sys.Clients)
		w.prof = w.play.profile()
	} else {
		w.tape = &Script{Clients: make([]ClientScript, sys.Clients), SyncFailDraws: w.prof.SyncFailRate}
	}
	w.net = newNetwork(opts.Seed, &w.prof, sys.Servers)
	w.nodes = make([]*node, sys.Servers+sys.Clients+1)
	clk := newStream(opts.Seed, streamClock)
	for i := 1; i < len(w.nodes); i++ {
		n := &node{id: NodeID(i), timers: map[int]uint64{}, disk: newDisk(), syncedTo: -1, server: i <= sys.Servers, dsk: newStream(opts.Seed, streamDisks+uint64(i))}
		switch {
		case n.server && w.play != nil:
			n.clock = w.play.clock(n.id)
		case n.server && w.prof.On[FaultClock]:
			n.clock = clock{
				offset: between(clk, 0, int64(time.Second)),
				drift:  (clk.Float64()*2 - 1) * w.prof.ClockDriftMax,
			}
			w.tape.Steps = append(w.tape.Steps, Step{Kind: StepClockSkew, Node: n.id, Offset: Dur(n.clock.offset), Drift: n.clock.drift})
		}
		w.nodes[i] = n
	}
	if w.prof.On[FaultBitrot] && w.play == nil {
		w.rotNode = NodeID(1 + w.nem.IntN(sys.Servers))
	}
	if sys.Outside != nil {
		w.outside = sys.Outside()
		w.out = newStream(opts.Seed, streamOutside)
	}
	w.clients = newClients(w)
	return w
}

func (w *World) start() {
	w.faulting = true
	w.net.faulty = true
	w.logf(0, "world seed=%d system=%s servers=%d clients=%d faults=%s", w.opts.Seed, w.sys.Name, w.sys.Servers, w.sys.Clients, w.prof)
	for _, n := range w.nodes[1:] {
		w.boot(n)
	}
	w.clients.begin()
	if w.play != nil {
		w.play.schedule(w)
		return
	}
	w.recordLink()
	w.scheduleNemesis()
}

func (w *World) loop() {
	for !w.done {
		e := w.q.pop()
		if e == nil {
			w.fail("the world went quiet with %d operations still open", w.clients.openOps())
			return
		}
		w.now = e.at
		w.events++
		if w.events > w.opts.MaxEvents {
			w.fail("event budget of %d exhausted at %v; last events:\n%s", w.opts.MaxEvents, time.Duration(w.now), w.recent.String())
			return
		}
		if w.events%stormEvents == 0 {
			if w.now-w.stormMark < int64(stormWindow) {
				w.fail("event storm: %d events in %v of virtual time (a message loop?); last events:\n%s",
					stormEvents, time.Duration(w.now-w.stormMark), w.recent.String())
				return
			}
			w.stormMark = w.now
		}
		e.run()
	}
}

// A run that processes stormEvents events in less than stormWindow of virtual time is
// stuck in a loop (normal runs need seconds of virtual time for that many); stopping it
// early saves minutes of wall time and names the loop.
const (
	stormEvents = 100_000
	stormWindow = time.Second
)

// ring keeps the last lines logged, to explain a run that had to be stopped.
type ring struct {
	lines [8]string
	next  int
}

func (r *ring) add(line string) {
	r.lines[r.next%len(r.lines)] = line
	r.next++
}

func (r *ring) String() string {
	var b strings.Builder
	for i := range len(r.lines) {
		if l := r.lines[(r.next+i)%len(r.lines)]; l != "" {
			b.WriteString("    ")
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (w *World) fail(format string, args ...any) {
	if w.liveErr == nil {
		w.liveErr = fmt.Errorf("%w: %s", ErrLiveness, fmt.Sprintf(format, args...))
	}
	w.done = true
}

func (w *World) result() Result {
	w.closeWindows()
	return Result{
		Seed:         w.opts.Seed,
		System:       w.sys.Name,
		Profile:      w.prof,
		History:      w.rec.Events(),
		Faults:       w.windows,
		TraceHash:    hex.EncodeToString(w.trace.Sum(nil)),
		SimTime:      time.Duration(w.now),
		Events:       w.events,
		Liveness:     w.liveErr,
		Observations: w.observations,
		CrashPoints:  w.points,
		FaultPoints:  w.faultPoints,
		Probes:       w.probes,
		Fired:        w.fired,
		EmptySyncs:   w.emptySyncs,
		FirstEmpty:   w.firstEmpty,
		Cost:         w.finalCost(),
		Script:       w.finishTape(),
	}
}

// Cost is what a run spent doing its work. A change that keeps every check green can still
// make the same seeds send more messages, fsync more often, finish later or leave more on
// disk: only a comparison with a baseline run of the same seeds shows that.
type Cost struct {
	Time     time.Duration `json:"timeNs"`   // virtual time until the run ended
	Messages int           `json:"messages"` // Send effects (each once, however many deliveries the network made of it)
	Syncs    int           `json:"syncs"`    // fsyncs asked for
	Written  int           `json:"written"`  // bytes appended to disks, framing included
	Stored   int           `json:"stored"`   // bytes on every disk at the end, durable or still pending
}

func (w *World) finalCost() Cost {
	c := w.cost
	c.Time = time.Duration(w.now)
	for _, n := range w.nodes[1:] {
		c.Stored += n.disk.size()
	}
	return c
}

// at schedules fn after delay virtual nanoseconds.
func (w *World) at(delay int64, node NodeID, kind string, fn func()) {
	w.q.push(w.now+delay, node, kind, fn)
}

// logf feeds one line to the trace hash and, when tracing, to the trace sink.
func (w *World) logf(node NodeID, format string, args ...any) {
	w.line = fmt.Appendf(w.line[:0], format, args...)
	w.emit(node)
}

// log is logf for a ready-made string; the hot path (every input and effect) uses it to
// skip a formatting pass.
func (w *World) log(node NodeID, prefix, s string) {
	w.line = append(append(w.line[:0], prefix...), s...)
	w.emit(node)
}

// emit hashes (virtual time, node, line length, line) with fixed-width binary headers, so
// no two different event sequences share an encoding.
func (w *World) emit(node NodeID) {
	var hdr [20]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(w.now))
	binary.LittleEndian.PutUint64(hdr[8:16], uint64(node))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(len(w.line)))
	w.trace.Write(hdr[:])
	w.trace.Write(w.line)
	if w.events%stormEvents > stormEvents-len(w.recent.lines)*4 || w.events >= w.opts.MaxEvents-len(w.recent.lines)*4 {
		w.recent.add(nodeLabel(node) + " " + string(w.line)) // only near a checkpoint: copying every line would cost
	}
	if w.opts.Events != nil {
		w.opts.Events(time.Duration(w.now), node, string(w.line))
	}
	if w.opts.Trace != nil {
		w.opts.Trace(fmt.Sprintf("%14.6fms %-4s %s", float64(w.now)/1e6, nodeLabel(node), w.line))
	}
}

func nodeLabel(id NodeID) string {
	if id == 0 {
		return "--"
	}
	return id.String()
}
