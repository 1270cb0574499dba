package pod

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/orrery/orrery/node/component"
)

// podsFile is the Manager's log of pod transitions, one JSON record per transition.
const podsFile = "pods"

// Manager is the deterministic pod supervisor: it keeps every pod's lifecycle state,
// persists each transition before acting on it, and asks a runtime to do the work.
//
// Write-ahead rule: an Action leaves the Manager only after the record of the transition
// that motivates it is durable, and a Reply only after the state it reports is durable.
// So a Manager that crashes never forgets a pod the runtime has heard of.
type Manager struct {
	id       component.NodeID
	grace    time.Duration
	pods     map[string]*podRec
	waiters  map[string][]waiter // pod -> clients waiting for it to end
	held     []component.Effect  // effects released at the next completed sync
	dirty    bool                // records appended since the last Sync
	syncing  []heldBatch         // syncs in flight, oldest first
	nextSync uint64
}

type podRec struct {
	Pod     string     `json:"pod"`
	Image   ImageID    `json:"image,omitempty"`
	State   State      `json:"state"`
	Status  ExitStatus `json:"status,omitzero"`
	EndedAt int64      `json:"endedAt,omitempty"` // local time the pod ended, ns
	Removed bool       `json:"removed,omitempty"` // cleaned up; kept as a tombstone
}

type waiter struct {
	from component.NodeID
	op   uint64
}

type heldBatch struct {
	id   uint64
	effs []component.Effect
}

// NewManager returns a Manager that collects ended pods grace after they end.
func NewManager(id component.NodeID, grace time.Duration) *Manager {
	return &Manager{id: id, grace: grace, pods: map[string]*podRec{}, waiters: map[string][]waiter{}}
}

// Handle implements component.Component.
func (m *Manager) Handle(now time.Duration, in component.Input) []component.Effect {
	var out []component.Effect
	switch in := in.(type) {
	case component.Start:
		m.recover(in.Disk)
	case component.Receive:
		if req, ok := in.Msg.(Request); ok {
			m.request(now, in.From, req)
		}
	case Outcome:
		m.outcome(now, in)
	case component.Synced:
		if in.Err != nil {
			return []component.Effect{component.Halt{Reason: "pod manager: sync failed: " + in.Err.Error()}}
		}
		out = m.release(in.ID)
	}
	return append(out, m.flush()...)
}

// recover rebuilds the pods from the transition log and re-issues the work whose outcome
// was never recorded. The runtime's actions are idempotent, so repeating them is safe.
func (m *Manager) recover(disk component.Recovery) {
	for _, raw := range disk.Files[podsFile] {
		var r podRec
		if json.Unmarshal(raw, &r) == nil && r.State.Valid() {
			m.pods[r.Pod] = &r
		}
	}
	// Probe every pod still held, ended ones too: a corrupt record hides the transitions
	// after it, so the log may show an older state than the runtime's.
	for _, name := range m.names() {
		if r := m.pods[name]; !r.Removed {
			m.act(KindProbe, r)
		}
	}
}

func (m *Manager) names() []string {
	names := make([]string, 0, len(m.pods))
	for n := range m.pods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// act queues an action for the runtime; it leaves with the next durable sync.
func (m *Manager) act(kind ActionKind, r *podRec) {
	m.held = append(m.held, Action{Kind: kind, Pod: r.Pod, Image: r.Image})
}

func (m *Manager) reply(to component.NodeID, op uint64, value string) {
	m.held = append(m.held, component.Send{To: to, Msg: Reply{OpID: op, Value: value}})
}

// transition applies ev to r, records it and reports whether it was legal.
func (m *Manager) transition(now time.Duration, r *podRec, ev Event) bool {
	to, err := Next(r.State, ev)
	if err != nil {
		return false
	}
	r.State = to
	if to.Final() && r.EndedAt == 0 {
		r.EndedAt = int64(now)
	}
	m.persist(r)
	if to == Exited || to == Aborted {
		m.wake(r)
	}
	return true
}

func (m *Manager) persist(r *podRec) {
	rec, err := json.Marshal(r)
	if err != nil {
		panic("pod: manager record does not encode: " + err.Error())
	}
	m.held = append(m.held, component.Append{File: podsFile, Record: rec})
	m.dirty = true
}
