package sim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/orrery/orrery/checker/history"
)

// Script pins what the clients and the nemesis of a world do, as explicit timed steps instead
// of draws from the seed: the operations each client invokes and when, and the fault
// schedule. A seeded run records its script (Result.Script); Options.Script runs a world
// from one. A scripted world still takes from the seed everything a script does not say:
// per-message latency, loss and duplication draws (at the rates of the script's link
// steps), sync latencies, which unsynced writes survive a crash and where a write tears,
// which bit rots, and each component's own random source. A scripted fault step takes the
// same draws from those shared streams as the seeded fault it records, so a script
// extracted from a seed replays that seed's history exactly; once steps are removed or
// moved, the per-message draws shift and the run is a new (still reproducible) one.
type Script struct {
	Clients []ClientScript `json:"clients"`
	Steps   []Step         `json:"faults"`
	// Halts are the restarts of servers that halted on their own (a component's Halt
	// effect, e.g. after a failed fsync): not faults, but the supervisor's timing.
	Halts []HaltRestart `json:"halts,omitempty"`
	// SyncFailDraws is the sync-failure rate the seeded run drew a chance at for every
	// sync in the fault phase; a scripted run draws the same chances (and ignores them:
	// syncfail steps decide) so that sync latencies keep their draws. 0 draws nothing.
	SyncFailDraws float64 `json:"sync_fail_draws,omitempty"`
}

// ClientScript is one client's operations in the fault phase, in order, and its final one.
type ClientScript struct {
	// Ops are invoked in order, each at its At or, when the client is still busy then, as
	// soon as its previous operation ends.
	Ops []ScriptOp `json:"ops"`
	// Done is when the client found it had no operations left; the fault phase ends at
	// the first such moment at which no client has anything left to do. 0: at once.
	Done Dur `json:"done,omitempty"`
	// Final runs in the liveness phase, after the faults stop; nil: none.
	Final *ScriptOp `json:"final,omitempty"`
}

// ScriptOp is one client operation with the time it was invoked.
type ScriptOp struct {
	At    Dur           `json:"at"`
	F     string        `json:"f"`
	Key   string        `json:"key,omitempty"`
	Value history.Value `json:"value"`
}

// Step kinds.
const (
	StepCrash      = "crash"       // crash Node at At, restart at End
	StepCrashPoint = "crash-point" // crash Node when it reaches Point at exactly At (after Nth other reaches then), restart at End
	StepPause      = "pause"       // pause Node at At, resume at End
	StepPartition  = "partition"   // cut the directed links Cut at At (replacing any cut), heal at End
	StepClockJump  = "clock-jump"  // Node's clock jumps forward by Jump at At
	StepClockSkew  = "clock-skew"  // Node's clock runs with Offset and Drift from the start
	StepLink       = "link"        // message loss, duplication, reordering and delay from At to End
	StepSyncFail   = "syncfail"    // the sync Node issues at exactly At (after Nth others then) fails
	StepFaultPoint = "fault-point" // fire fault point Point when Node marks it at exactly At (after Nth other marks then)
)

// Step is one fault of a script. End 0 means "until the faults stop" for steps that are
// undone. Nodes outside the world's servers are ignored.
type Step struct {
	Kind string `json:"kind"`
	At   Dur    `json:"at"`
	End  Dur    `json:"end,omitempty"`
	Node NodeID `json:"node,omitempty"`
	// Cut lists the blocked directed links [from, to] of a partition; Shape is the shape
	// the seeded nemesis drew (its draws are replayed, see Script).
	Cut   [][2]NodeID `json:"cut,omitempty"`
	Shape string      `json:"shape,omitempty"`
	Jump  Dur         `json:"jump,omitempty"`
	// Offset and Drift set a clock-skew step's clock (local = Offset + (1+Drift)*virtual).
	Offset Dur     `json:"offset,omitempty"`
	Drift  float64 `json:"drift,omitempty"`
	Point  string  `json:"point,omitempty"`
	// Nth skips that many reaches of the point (or syncs) that happen at exactly At.
	Nth int `json:"nth,omitempty"`
	// Within widens when a point-tied step (crash-point, fault-point, syncfail) may fire:
	// at its exact reach, or at the node's first reach of the point after At and before
	// At+Within; 0 means one raft tick. A crash point that fires late restarts its node
	// as long after as End is after At. Recorded runs leave it 0; the shrinker widens it,
	// so that "crash n2 the first time it votes after 100ms" survives a change of timing.
	Within Dur `json:"within,omitempty"`
	// Rot flips a bit in the node's synced data when the crash happens (bitrot).
	Rot  bool        `json:"rot,omitempty"`
	Link *LinkFaults `json:"link,omitempty"`
	Note string      `json:"note,omitempty"` // why the nemesis did it ("new leader"), for windows
}

// LinkFaults are the per-message fault rates of a link step.
type LinkFaults struct {
	Drop       float64 `json:"drop,omitempty"`
	Duplicate  float64 `json:"duplicate,omitempty"`
	Reorder    float64 `json:"reorder,omitempty"`
	ReorderMax Dur     `json:"reorder_max,omitempty"`
	Delay      float64 `json:"delay,omitempty"`
	DelayMax   Dur     `json:"delay_max,omitempty"`
}

// HaltRestart records that Node halted at At and its supervisor restarted it at Restart.
type HaltRestart struct {
	Node    NodeID `json:"node"`
	At      Dur    `json:"at"`
	Restart Dur    `json:"restart"`
	Rot     bool   `json:"rot,omitempty"`
}

// Ops counts the client operations of the script, final ones included.
func (s *Script) Ops() int {
	n := 0
	for _, c := range s.Clients {
		n += len(c.Ops)
		if c.Final != nil {
			n++
		}
	}
	return n
}

// Dur is a duration written in JSON as Go's duration syntax ("1.25ms"), exactly.
type Dur time.Duration

// MarshalJSON writes the duration as a string.
func (d Dur) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Dur) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: want a string like \"1.5ms\" or nanoseconds, got %s", b)
		}
		*d = Dur(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Dur(v)
	return nil
}

func (d Dur) String() string { return time.Duration(d).String() }
