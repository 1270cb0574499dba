package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Fault is one kind of fault the simulator can inject.
type Fault string

// The fault kinds. Network faults act on every link; partitions, crashes, pauses and clock
// jumps are episodes scheduled by the nemesis; bitrot corrupts one node's synced data at
// rest; syncfail makes fsync report an error.
const (
	FaultDrop      Fault = "drop"      // lose messages
	FaultDuplicate Fault = "duplicate" // deliver a message twice
	FaultReorder   Fault = "reorder"   // add random extra latency, so later messages overtake
	FaultDelay     Fault = "delay"     // rare long delays (a clogged link)
	FaultPartition Fault = "partition" // halves, one node, majority/minority, ring, bridge, one-way
	FaultCrash     Fault = "crash"     // kill a server (memory and unsynced writes lost), restart later
	FaultPause     Fault = "pause"     // stop a server (SIGSTOP), resume later
	FaultClock     Fault = "clock"     // skew and drift of local clocks, forward jumps
	FaultBitrot    Fault = "bitrot"    // flip bits in one node's synced data; checksums must catch it
	FaultSyncFail  Fault = "syncfail"  // fsync fails; the node must not trust unsynced data
	// FaultPoints lets the simulator fire the fault points components mark (see
	// component.FaultPoint). It is not in AllFaults, whose swarm draws it would shift: in
	// swarm mode it is on for half of the runs, decided from a stream of its own.
	FaultPoints Fault = "faultpoint"
)

// AllFaults lists every fault kind, in a fixed order.
var AllFaults = []Fault{
	FaultDrop, FaultDuplicate, FaultReorder, FaultDelay, FaultPartition,
	FaultCrash, FaultPause, FaultClock, FaultBitrot, FaultSyncFail,
}

// FaultSet says which faults may be injected and whether each seed draws its own subset.
type FaultSet struct {
	Enabled []Fault // sorted, unique
	// Swarm makes each seed pick a random subset of Enabled and random intensities, as in
	// swarm testing: runs with few fault kinds reach states that runs with all of them mask.
	Swarm bool
}

// ParseFaults reads "all" (swarm over every fault), "none", or a comma-separated list of
// fault kinds (exactly those, with intensities drawn per seed).
func ParseFaults(s string) (FaultSet, error) {
	switch strings.TrimSpace(s) {
	case "", "all":
		return FaultSet{Enabled: slices.Clone(AllFaults), Swarm: true}, nil
	case "none":
		return FaultSet{}, nil
	}
	var out []Fault
	for _, part := range strings.Split(s, ",") {
		f := Fault(strings.TrimSpace(part))
		if !slices.Contains(AllFaults, f) && f != FaultPoints {
			return FaultSet{}, fmt.Errorf("unknown fault %q (known: %s, %s, or all, none)", f, joinFaults(AllFaults), FaultPoints)
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return FaultSet{Enabled: slices.Compact(out)}, nil
}

// String renders the set in the syntax ParseFaults reads.
func (fs FaultSet) String() string {
	switch {
	case len(fs.Enabled) == 0:
		return "none"
	case fs.Swarm && len(fs.Enabled) == len(AllFaults):
		return "all"
	}
	return joinFaults(fs.Enabled)
}

func joinFaults(fs []Fault) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// Profile is the fault mix one seed runs with: which faults are on and how hard they hit.
type Profile struct {
	On map[Fault]bool

	DropRate      float64       // probability a message is lost
	DuplicateRate float64       // probability a message is delivered twice
	ReorderRate   float64       // probability a message gets extra random latency
	ReorderMax    time.Duration // the most extra latency a reordered message gets
	DelayRate     float64       // probability of a long delay
	DelayMax      time.Duration
	NemesisEvery  time.Duration // mean time between nemesis episodes
	EpisodeMax    time.Duration // longest partition / crash / pause
	// LeaderKill is the probability that a server which just announced it leads is
	// crashed or cut off within LeaderKillWithin (see World.reactToLeader). It is drawn
	// skewed towards 1 (the square root of a uniform draw): the raft paper's figure 8 needs
	// a chain of three or four leaders cut down in turn, whose chance goes as LeaderKill to
	// that power, so the seeds with storms of elections are the ones that find it.
	LeaderKill       float64
	LeaderKillWithin time.Duration
	// CrashPointRate is the probability that a component's CrashPoint crashes it.
	CrashPointRate float64
	ClockDriftMax  float64 // largest |drift| as a fraction (0.05 = 5%)
	ClockJumpMax   time.Duration
	BitrotRate     float64 // probability a crash of the rotting node also flips a bit
	SyncFailRate   float64 // probability a sync fails
}

// drawProfile picks the seed's fault mix. In swarm mode each enabled fault is kept with
// probability 1/2 (at least one survives), and every intensity is drawn.
func drawProfile(r *rand.Rand, fs FaultSet) Profile {
	p := Profile{On: map[Fault]bool{}}
	for _, f := range fs.Enabled {
		if !fs.Swarm || r.IntN(2) == 0 {
			p.On[f] = true
		}
	}
	if fs.Swarm && len(p.On) == 0 && len(fs.Enabled) > 0 {
		p.On[fs.Enabled[r.IntN(len(fs.Enabled))]] = true
	}
	p.DropRate = pick(r, p.On[FaultDrop], 0.01, 0.3)
	p.DuplicateRate = pick(r, p.On[FaultDuplicate], 0.01, 0.2)
	p.ReorderRate = pick(r, p.On[FaultReorder], 0.05, 0.5)
	p.ReorderMax = time.Duration(between(r, int64(time.Millisecond), int64(50*time.Millisecond)))
	p.DelayRate = pick(r, p.On[FaultDelay], 0.001, 0.02)
	p.DelayMax = time.Duration(between(r, int64(100*time.Millisecond), int64(2*time.Second)))
	p.NemesisEvery = time.Duration(between(r, int64(50*time.Millisecond), int64(time.Second)))
	p.EpisodeMax = time.Duration(between(r, int64(100*time.Millisecond), int64(3*time.Second)))
	p.LeaderKill = math.Sqrt(pick(r, p.On[FaultCrash] || p.On[FaultPartition], 0, 1))
	p.LeaderKillWithin = time.Duration(between(r, int64(time.Millisecond), int64(50*time.Millisecond)))
	p.ClockDriftMax = pick(r, p.On[FaultClock], 0.001, 0.1)
	p.CrashPointRate = pick(r, p.On[FaultCrash], 0.001, 0.03)
	p.ClockJumpMax = time.Duration(between(r, int64(time.Millisecond), int64(5*time.Second)))
	p.BitrotRate = pick(r, p.On[FaultBitrot], 0.2, 1)
	p.SyncFailRate = pick(r, p.On[FaultSyncFail], 0.001, 0.05)
	return p
}

// pick draws an intensity in [lo, hi] when on, else 0. It always consumes one draw so that
// turning one fault off does not shift the draws of the others.
func pick(r *rand.Rand, on bool, lo, hi float64) float64 {
	x := lo + r.Float64()*(hi-lo)
	if !on {
		return 0
	}
	return x
}

// String lists the faults that are on, for the run summary. Fault points are left out:
// the summary line feeds the trace hash, and seeds kept their hashes when they came.
func (p Profile) String() string {
	var on []Fault
	for _, f := range AllFaults {
		if p.On[f] {
			on = append(on, f)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return joinFaults(on)
}

// FaultWindow records one fault episode for reports and visualisations.
type FaultWindow struct {
	Start, End time.Duration // End == Start for instant faults (a clock jump)
	Kind       Fault
	Detail     string
}
