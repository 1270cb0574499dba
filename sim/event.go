package sim

import "container/heap"

// event is one scheduled happening. Events run in (at, seq) order; seq is the scheduling order,
// so two events at the same virtual time run in the order they were scheduled, and a run is a
// pure function of the seed.
type event struct {
	at   int64 // virtual nanoseconds
	seq  uint64
	node NodeID // 0 for world-level events
	kind string // short tag for the trace ("deliver", "timer", "sync", ...)
	run  func()
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// queue is the world's agenda.
type queue struct {
	h   eventHeap
	seq uint64
}

func (q *queue) push(at int64, node NodeID, kind string, run func()) {
	q.seq++
	heap.Push(&q.h, &event{at: at, seq: q.seq, node: node, kind: kind, run: run})
}

func (q *queue) pop() *event {
	if len(q.h) == 0 {
		return nil
	}
	return heap.Pop(&q.h).(*event)
}

func (q *queue) len() int { return len(q.h) }
