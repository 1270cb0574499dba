package pod

import "fmt"

// ActionKind names a request the Manager makes of its pod runtime.
type ActionKind string

// The runtime actions. Every one is idempotent per pod name, because a Manager that
// restarts repeats the actions whose outcome it never recorded.
const (
	KindPrepare ActionKind = "pod.prepare" // render the pod's roots; answer OutPrepared or OutPrepareFailed
	KindStart   ActionKind = "pod.start"   // start a prepared pod; answer OutStarted or OutStartFailed, later OutExited
	KindStop    ActionKind = "pod.stop"    // ask a running pod to end; its OutExited follows
	KindProbe   ActionKind = "pod.probe"   // report what the runtime knows of a pod: OutProbed
	KindCleanup ActionKind = "pod.cleanup" // release every resource of an ended pod: OutCleaned
)

// Action is the component-specific effect the Manager returns for its runtime.
type Action struct {
	Kind  ActionKind
	Pod   string
	Image ImageID
}

func (a Action) String() string {
	if a.Image != "" {
		return fmt.Sprintf("%s %s image=%s", a.Kind, a.Pod, a.Image.Short())
	}
	return fmt.Sprintf("%s %s", a.Kind, a.Pod)
}

// OutcomeKind names what the runtime reports back.
type OutcomeKind string

// The runtime outcomes.
const (
	OutPrepared      OutcomeKind = "pod.prepared"
	OutPrepareFailed OutcomeKind = "pod.prepare-failed"
	OutStarted       OutcomeKind = "pod.started"
	OutStartFailed   OutcomeKind = "pod.start-failed"
	OutExited        OutcomeKind = "pod.exited"
	OutProbed        OutcomeKind = "pod.probed"
	OutCleaned       OutcomeKind = "pod.cleaned"
)

// Outcome is the component-specific input a runtime delivers to the Manager.
type Outcome struct {
	Kind   OutcomeKind
	Pod    string
	Err    string     // why a prepare or start failed
	Status ExitStatus // for OutExited, OutStartFailed and an OutProbed of an ended pod
	// Seen is the runtime's view of the pod, for OutProbed: "" (never heard of it),
	// Prepared, Running, Exited or Garbage (cleaned up; the runtime keeps a tombstone so
	// that a Manager which lost records does not run the pod again).
	Seen State
}

func (o Outcome) String() string {
	s := fmt.Sprintf("%s %s", o.Kind, o.Pod)
	switch o.Kind {
	case OutPrepareFailed, OutStartFailed:
		s += fmt.Sprintf(" err=%q", o.Err)
	case OutProbed:
		s += fmt.Sprintf(" seen=%q", o.Seen)
	}
	if o.Kind == OutExited || o.Kind == OutStartFailed || o.Seen == Exited {
		s += " " + o.Status.String()
	}
	return s
}
