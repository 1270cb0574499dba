package pod

import "fmt"

// The operations a client asks of a Manager (history "f" names).
const (
	OpRun    = "run"    // create and start a pod; answers once the intent is durable
	OpStop   = "stop"   // stop a running pod
	OpStatus = "status" // the pod's current state
	OpWait   = "wait"   // answers once the pod has ended (or is unknown)
	OpGC     = "gc"     // collect ended pods older than the grace period
)

// Request is a client's message to the Manager.
type Request struct {
	OpID  uint64
	F     string
	Pod   string
	Image ImageID
}

func (r Request) String() string {
	return fmt.Sprintf("pod-req op=%d %s %s", r.OpID, r.F, r.Pod)
}

// Reply answers a Request. Value is a state, optionally followed by the exit status.
type Reply struct {
	OpID  uint64
	Value string
}

func (r Reply) String() string { return fmt.Sprintf("pod-reply op=%d %q", r.OpID, r.Value) }
