package podsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/pod"
	"github.com/orrery/orrery/sim"
)

// Image is the image every simulated pod runs.
const Image = pod.ImageID("sha512-00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000")

// System returns a simulated world of one pod Manager (node 1), clients driving it and the
// fake runtime. Its Invariants compare what the Manager reported with the runtime's ground
// truth. The returned System keeps the current run's runtime, so run it one seed at a time.
func System(clients int, grace time.Duration) sim.System {
	var rt *Runtime
	return sim.System{
		Name:    "pod",
		Servers: 1,
		Clients: clients,
		Server: func(id component.NodeID, _ *rand.Rand) component.Component {
			return pod.NewManager(id, grace)
		},
		Client: func(component.NodeID, *rand.Rand) component.Component {
			return pod.NewClient(1, 50*time.Millisecond)
		},
		Workload: func() sim.Generator { return &Ops{pods: map[int]int{}} },
		Outside: func() sim.Outside {
			rt = New(0.1, 300*time.Millisecond)
			return rt
		},
		Invariants: func(res sim.Result) error { return Check(rt, res.History) },
	}
}

// Ops draws pod operations: each client runs its own pods and stops, inspects and collects
// them; at the end every client waits for its last pod.
type Ops struct {
	pods map[int]int // client -> pods it has run
}

func podName(client, n int) string { return fmt.Sprintf("c%d-p%d", client, n) }

// Next implements sim.Generator.
func (g *Ops) Next(r *rand.Rand, client int) sim.Op {
	n := g.pods[client]
	if n == 0 || r.IntN(3) == 0 {
		g.pods[client]++
		return sim.Op{F: pod.OpRun, Key: podName(client, n), Value: component.Str(string(Image))}
	}
	name := podName(client, r.IntN(n))
	switch r.IntN(4) {
	case 0:
		return sim.Op{F: pod.OpStop, Key: name, Value: component.Null()}
	case 1:
		return sim.Op{F: pod.OpGC, Value: component.Null()}
	}
	return sim.Op{F: pod.OpStatus, Key: name, Value: component.Null()}
}

// Final implements sim.Generator.
func (g *Ops) Final(_ *rand.Rand, client int) sim.Op {
	return sim.Op{F: pod.OpWait, Key: podName(client, max(g.pods[client]-1, 0)), Value: component.Null()}
}

// Check reports the first disagreement between the Manager's answers and the truth: a
// runtime violation, a pod started twice, or a wait that reported the wrong exit.
func Check(rt *Runtime, h []history.Event) error {
	if v := rt.Violations(); len(v) > 0 {
		return fmt.Errorf("pod runtime: %s", v[0])
	}
	for _, name := range rt.Names() {
		if t := rt.Pod(name); t.Starts > 1 {
			return fmt.Errorf("pod %s started %d times", name, t.Starts)
		}
	}
	open := map[int]string{}
	for _, e := range h {
		if e.F != pod.OpWait {
			continue
		}
		if e.Type == history.Invoke {
			open[e.Process] = e.Key
			continue
		}
		if e.Type == history.OK {
			v, _ := e.Value.Str()
			if err := checkWait(rt, open[e.Process], v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWait checks one answer to a wait: an ended pod must report the exit the runtime
// saw, and a pod whose app never started must say so.
func checkWait(rt *Runtime, name, got string) error {
	state, status, _ := strings.Cut(got, " ")
	switch state {
	case "unknown":
		return nil // the run never became durable; nothing to compare
	case string(pod.Running), string(pod.Prepared), string(pod.Preparing), string(pod.Embryo):
		return fmt.Errorf("wait for pod %s answered %q before it ended", name, got)
	}
	t := rt.Pod(name)
	switch {
	case t == nil:
		return fmt.Errorf("pod %s reported %q but the runtime never heard of it", name, got)
	case t.Started && status != t.Status.String():
		return fmt.Errorf("pod %s reported %q; its app ended with %s", name, got, t.Status)
	case !t.Started && !strings.HasPrefix(status, "code=-1"):
		return fmt.Errorf("pod %s reported %q but its app never started", name, got)
	}
	return nil
}
