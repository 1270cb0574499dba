package podsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/pod"
	"github.com/orrery/orrery/sim"
)

// Truth is what really happened to one pod in the fake runtime. Whether the app still runs
// depends on the time: it ends at EndsAt.
type Truth struct {
	Prepared bool
	Starts   int // how many times the pod's app was started; more than one is a violation
	Started  bool
	EndsAt   time.Duration  // when the app ends (by itself or stopped)
	Status   pod.ExitStatus // how it ends
	Cleaned  bool
}

// Running reports whether the app runs at time now.
func (t *Truth) Running(now time.Duration) bool { return t.Started && now < t.EndsAt }

// Exited reports whether the app has ended by time now (or never started because its
// start failed).
func (t *Truth) Exited(now time.Duration) bool { return t.Started && now >= t.EndsAt }

// Runtime is a fake pod runtime; it implements sim.Outside. Pods outlive a crash of their
// Manager (as pods supervised by systemd outlive the CLI that started them), but their
// exit reports to a dead Manager are lost: the Manager must probe after a restart.
type Runtime struct {
	// FailRate is the chance that a prepare or a start fails.
	FailRate float64
	// MaxLife bounds how long an app runs before it exits by itself.
	MaxLife time.Duration

	pods       map[string]*Truth
	violations []string
}

// New returns a fake runtime with the given failure rate and app lifetime bound.
func New(failRate float64, maxLife time.Duration) *Runtime {
	return &Runtime{FailRate: failRate, MaxLife: maxLife, pods: map[string]*Truth{}}
}

// Pod returns the truth about pod name, or nil if the runtime never heard of it.
func (f *Runtime) Pod(name string) *Truth { return f.pods[name] }

// Names lists the pods the runtime knows, sorted.
func (f *Runtime) Names() []string {
	var names []string
	for n := range f.pods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Violations lists what a Manager made the runtime do wrong, in order.
func (f *Runtime) Violations() []string { return f.violations }

// Crashed implements sim.Outside: pods keep running without their Manager.
func (f *Runtime) Crashed(component.NodeID, time.Duration) {}

// Apply implements sim.Outside.
func (f *Runtime) Apply(_ component.NodeID, now time.Duration, e component.Effect, r *rand.Rand) ([]sim.Later, error) {
	a, ok := e.(pod.Action)
	if !ok {
		return nil, fmt.Errorf("podsim: unknown effect %T", e)
	}
	t := f.pods[a.Pod]
	if t == nil {
		t = &Truth{}
		f.pods[a.Pod] = t
	}
	soon := time.Duration(1+r.IntN(5)) * time.Millisecond
	switch a.Kind {
	case pod.KindPrepare:
		return f.prepare(a.Pod, t, now, r, soon), nil
	case pod.KindStart:
		return f.start(a.Pod, t, now, r, soon), nil
	case pod.KindStop:
		return f.stop(a.Pod, t, now, soon), nil
	case pod.KindProbe:
		return f.probe(a.Pod, t, now, soon), nil
	case pod.KindCleanup:
		if t.Running(now) {
			f.violations = append(f.violations, "cleanup of running pod "+a.Pod)
		}
		t.Cleaned = true
		return []sim.Later{{After: soon, In: pod.Outcome{Kind: pod.OutCleaned, Pod: a.Pod}}}, nil
	}
	return nil, fmt.Errorf("podsim: unknown action %q", a.Kind)
}

// prepare renders a pod once. A pod name the runtime has already run answers with what
// became of it, as a real pod store would: a Manager that lost its records must not run a
// pod a second time.
func (f *Runtime) prepare(name string, t *Truth, now time.Duration, r *rand.Rand, soon time.Duration) []sim.Later {
	if t.Started || t.Cleaned {
		return f.probe(name, t, now, soon)
	}
	if !t.Prepared && r.Float64() < f.FailRate {
		return []sim.Later{{After: soon, In: pod.Outcome{Kind: pod.OutPrepareFailed, Pod: name, Err: "disk full"}}}
	}
	t.Prepared = true
	return []sim.Later{{After: soon, In: pod.Outcome{Kind: pod.OutPrepared, Pod: name}}}
}

// start runs the app once; a repeated start of a pod that already ran reports what
// happened instead of running it again, as the real runtime's pod lock does.
func (f *Runtime) start(name string, t *Truth, now time.Duration, r *rand.Rand, soon time.Duration) []sim.Later {
	switch {
	case !t.Prepared:
		f.violations = append(f.violations, "start of unprepared pod "+name)
		return []sim.Later{{After: soon, In: pod.Outcome{Kind: pod.OutStartFailed, Pod: name, Err: "not prepared"}}}
	case t.Cleaned:
		f.violations = append(f.violations, "start of cleaned pod "+name)
	case t.Started:
		return f.probe(name, t, now, soon)
	}
	if r.Float64() < f.FailRate {
		return []sim.Later{{After: soon, In: pod.Outcome{Kind: pod.OutStartFailed, Pod: name, Err: "exec failed"}}}
	}
	t.Starts++
	t.Started = true
	t.EndsAt = now + soon + time.Duration(r.Int64N(int64(f.MaxLife)))
	t.Status = pod.ExitStatus{Code: r.IntN(3)}
	return []sim.Later{
		{After: soon, In: pod.Outcome{Kind: pod.OutStarted, Pod: name}},
		f.exitLater(name, t, now),
	}
}

// exitLater reports the app's end when it happens. A stop that ends the app earlier makes
// this report arrive after the stop's; the Manager ignores an exit of an exited pod.
func (f *Runtime) exitLater(name string, t *Truth, now time.Duration) sim.Later {
	return sim.Later{After: t.EndsAt - now, In: pod.Outcome{Kind: pod.OutExited, Pod: name, Status: t.Status}}
}

func (f *Runtime) stop(name string, t *Truth, now, soon time.Duration) []sim.Later {
	if !t.Running(now) || now+soon >= t.EndsAt {
		return nil // it ends by itself first
	}
	t.EndsAt, t.Status = now+soon, pod.ExitStatus{Code: 137, Signal: "killed"}
	return []sim.Later{f.exitLater(name, t, now)}
}

// probe reports the pod's state and, for a running pod, re-arms the report of its end: a
// Manager that restarted lost the one sent to its previous incarnation.
func (f *Runtime) probe(name string, t *Truth, now, soon time.Duration) []sim.Later {
	o := pod.Outcome{Kind: pod.OutProbed, Pod: name}
	switch {
	case t.Cleaned:
		o.Seen, o.Status = pod.Garbage, t.Status
	case t.Exited(now):
		o.Seen, o.Status = pod.Exited, t.Status
	case t.Running(now):
		o.Seen = pod.Running
		return []sim.Later{{After: soon, In: o}, f.exitLater(name, t, now)}
	case t.Prepared:
		o.Seen = pod.Prepared
	}
	return []sim.Later{{After: soon, In: o}}
}
