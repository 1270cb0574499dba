package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/orrery/orrery/node/bugs"
)

// env is the reference driver used by the data-driven tests: it owns the nodes, their
// storage (all of it synced: a crash loses only what never reached a Ready) and an in-order
// network with cuttable links.
type env struct {
	t     testing.TB
	nodes map[uint64]*tnode
	ids   []uint64
	msgs  []Message
	cut   map[[2]uint64]bool
	out   *strings.Builder
	// applied is every entry any node applied, by index; a node applying a different entry
	// at the same index is a safety violation (counted and printed).
	applied    map[uint64]Entry
	violations int
	leaders    map[uint64]uint64 // term -> leader: two leaders in a term is a violation
	reads      map[string]uint64 // read ctx -> highest commit index when it was requested
}

type tnode struct {
	n       *Node // nil while crashed
	st      *MemoryStorage
	cfg     Config
	applied uint64
}

func newEnv(t testing.TB) *env {
	return &env{t: t, nodes: map[uint64]*tnode{}, cut: map[[2]uint64]bool{}, out: &strings.Builder{}, applied: map[uint64]Entry{},
		leaders: map[uint64]uint64{}, reads: map[string]uint64{}}
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.out, format, args...) }

// addNode creates node id. With snapIndex > 0 the configuration is installed as a snapshot
// at that index; otherwise cs is the bootstrap configuration (Peers/Learners).
func (e *env) addNode(id uint64, cs ConfState, snapIndex uint64, cfg Config) error {
	st := NewMemoryStorage()
	if snapIndex > 0 {
		snap := Snapshot{Metadata: SnapshotMetadata{Index: snapIndex, Term: 1, ConfState: cs}}
		if err := st.ApplySnapshot(snap); err != nil {
			return err
		}
		st.SetHardState(HardState{Term: 1, Commit: snapIndex})
	} else {
		cfg.Peers, cfg.Learners = cs.Voters, cs.Learners
	}
	cfg.ID, cfg.Storage = id, st
	tn := &tnode{st: st, cfg: cfg}
	if err := e.start(tn); err != nil {
		return err
	}
	e.nodes[id] = tn
	e.ids = append(e.ids, id)
	slices.Sort(e.ids)
	return nil
}

func (e *env) start(tn *tnode) error {
	cfg := tn.cfg
	cfg.Rand = rand.New(rand.NewPCG(cfg.ID, 7))
	cfg.Applied = tn.applied
	n, err := NewNode(cfg)
	if err != nil {
		return err
	}
	tn.n = n
	return nil
}

func (e *env) node(id uint64) *Node {
	tn := e.nodes[id]
	if tn == nil || tn.n == nil {
		e.t.Fatalf("node %d does not exist or is down", id)
	}
	return tn.n
}

// processReady carries out one Ready of node id like a real driver would, printing it.
func (e *env) processReady(id uint64) bool {
	tn := e.nodes[id]
	if tn.n == nil || !tn.n.HasReady() {
		return false
	}
	rd := tn.n.Ready()
	e.printf("> %d handling Ready\n", id)
	e.printReady(rd)
	e.checkReady(id, rd)
	e.persist(tn, rd)
	e.enqueue(rd.Messages)
	e.enqueue(rd.MessagesAfterSync)
	if err := tn.n.Advance(); err != nil {
		e.t.Fatal(err)
	}
	return true
}

// crashInReady takes node id's Ready, sends its Messages (which need no sync) and crashes
// before anything is written: the sync never happens.
func (e *env) crashInReady(id uint64) {
	tn := e.nodes[id]
	if tn.n == nil || !tn.n.HasReady() {
		return
	}
	rd := tn.n.Ready()
	e.printf("> %d handling Ready (crashes before the sync)\n", id)
	e.printReady(rd)
	e.enqueue(rd.Messages)
	e.crash(id)
}

// checkReady records violations of election safety and of read linearizability.
func (e *env) checkReady(id uint64, rd Ready) {
	n := e.nodes[id].n
	if n.role == RoleLeader {
		if l, ok := e.leaders[n.term]; ok && l != id {
			e.violations++
			e.printf("  VIOLATION: nodes %d and %d are both leaders of term %d\n", l, id, n.term)
		}
		e.leaders[n.term] = id
	}
	for _, rs := range rd.ReadStates {
		if want := e.reads[string(rs.RequestCtx)]; rs.Index < want {
			e.violations++
			e.printf("  VIOLATION: read %q answered with index %d, but %d was committed before it was requested\n", rs.RequestCtx, rs.Index, want)
		}
	}
}

// readIndex issues a read at node id, remembering the highest commit index at that moment.
func (e *env) readIndex(id uint64, ctx string) error {
	var commit uint64
	for _, tn := range e.nodes {
		if tn.n != nil {
			commit = max(commit, tn.n.log.committed)
		}
	}
	e.reads[ctx] = commit
	return e.node(id).ReadIndex([]byte(ctx))
}

func (e *env) persist(tn *tnode, rd Ready) {
	if !rd.Snapshot.IsEmpty() {
		if err := tn.st.ApplySnapshot(rd.Snapshot); err != nil {
			e.t.Fatal(err)
		}
		tn.applied = rd.Snapshot.Metadata.Index
	}
	if err := tn.st.Append(rd.Entries); err != nil {
		e.t.Fatal(err)
	}
	if !rd.HardState.IsEmpty() {
		tn.st.SetHardState(rd.HardState)
	}
	for _, ent := range rd.CommittedEntries {
		tn.applied = ent.Index
		if prev, ok := e.applied[ent.Index]; ok && !sameEntry(prev, ent) {
			e.violations++
			e.printf("  VIOLATION: node %d applies %s but %s was applied at index %d\n", tn.cfg.ID, ent, prev, ent.Index)
		}
		e.applied[ent.Index] = ent
	}
}

func (e *env) printReady(rd Ready) {
	p := func(format string, args ...any) { e.printf("  "+format, args...) }
	if rd.SoftState != nil {
		p("%s\n", rd.SoftState)
	}
	if !rd.HardState.IsEmpty() {
		p("HardState %s\n", rd.HardState)
	}
	printList(p, "Entries", rd.Entries)
	if !rd.Snapshot.IsEmpty() {
		p("Snapshot %s\n", rd.Snapshot.Metadata)
	}
	printList(p, "CommittedEntries", rd.CommittedEntries)
	for _, rs := range rd.ReadStates {
		p("ReadState Index:%d Ctx:%q\n", rs.Index, rs.RequestCtx)
	}
	printList(p, "Messages", rd.Messages)
	printList(p, "MessagesAfterSync", rd.MessagesAfterSync)
}

func printList[T fmt.Stringer](p func(string, ...any), title string, items []T) {
	if len(items) == 0 {
		return
	}
	p("%s:\n", title)
	for _, it := range items {
		p("  %s\n", it)
	}
}

func (e *env) enqueue(msgs []Message) {
	for _, m := range msgs {
		if e.cut[[2]uint64{m.From, m.To}] {
			continue
		}
		e.msgs = append(e.msgs, m)
	}
}

// deliver hands every queued message for one of ids (all when empty) to its recipient.
func (e *env) deliver(ids ...uint64) int {
	var keep, take []Message
	for _, m := range e.msgs {
		if len(ids) == 0 || slices.Contains(ids, m.To) {
			take = append(take, m)
		} else {
			keep = append(keep, m)
		}
	}
	e.msgs = keep
	byNode := map[uint64][]Message{}
	for _, m := range take {
		byNode[m.To] = append(byNode[m.To], m)
	}
	for _, id := range e.ids {
		e.deliverTo(id, byNode[id])
	}
	return len(take)
}

func (e *env) deliverTo(id uint64, msgs []Message) {
	if len(msgs) == 0 {
		return
	}
	tn := e.nodes[id]
	e.printf("> %d receiving messages\n", id)
	for _, m := range msgs {
		if tn == nil || tn.n == nil {
			e.printf("  %s (dropped: node down)\n", m)
			continue
		}
		e.printf("  %s\n", m)
		if err := tn.n.Step(m); err != nil {
			e.printf("  error: %v\n", err)
		}
	}
}

// stabilize processes Readies and delivers messages until nothing moves.
func (e *env) stabilize(ids ...uint64) {
	if len(ids) == 0 {
		ids = e.ids
	}
	for round := 0; ; round++ {
		if round > 1000 {
			e.t.Fatal("stabilize does not converge")
		}
		moved := false
		for _, id := range ids {
			moved = e.processReady(id) || moved
		}
		if e.deliver(ids...) > 0 {
			moved = true
		}
		if !moved {
			return
		}
	}
}

func (e *env) crash(id uint64) {
	e.nodes[id].n = nil
	e.printf("node %d crashed (unsynced state lost)\n", id)
}

func (e *env) restart(id uint64) error {
	tn := e.nodes[id]
	if err := e.start(tn); err != nil {
		return err
	}
	e.printf("node %d restarted: %s", id, tn.n.Status())
	return nil
}

func (e *env) isolate(id uint64) {
	for _, other := range e.ids {
		if other != id {
			e.cut[[2]uint64{id, other}] = true
			e.cut[[2]uint64{other, id}] = true
		}
	}
	e.msgs = slices.DeleteFunc(e.msgs, func(m Message) bool { return m.From == id || m.To == id })
}

func (e *env) raftLog(id uint64) string {
	n := e.node(id)
	first, last := n.log.firstIndex(), n.log.lastIndex()
	if last < first {
		return fmt.Sprintf("log is empty: first index=%d, last index=%d\n", first, last)
	}
	ents, err := n.log.slice(first, last+1, noLimit)
	if err != nil {
		return err.Error() + "\n"
	}
	return DescribeEntries(ents)
}

func (e *env) compact(id, index uint64) error {
	tn := e.nodes[id]
	cs, err := tn.n.ConfStateAt(index)
	if err != nil {
		return err
	}
	if _, err := tn.st.CreateSnapshot(index, cs, []byte(fmt.Sprintf("snap@%d", index))); err != nil {
		return err
	}
	return tn.st.Compact(index)
}

func bugSet(names []string) bugs.Set { return bugs.With(names...) }
