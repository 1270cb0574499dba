package faultproxy

import (
	"container/heap"
	"io"
	"sync"
	"time"
)

// queue holds units until they are due and writes them in due order (ties in push order).
type queue struct {
	mu       sync.Mutex
	wake     chan struct{}
	items    unitHeap
	seq      uint64
	last     time.Time // latest in-order due time, so delays never reorder
	finished bool      // no more units: drain what is queued, then stop
	closed   bool      // stop now
}

type unit struct {
	due time.Time
	seq uint64
	b   []byte
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

// inOrder returns due, or the last in-order due time if that is later.
func (q *queue) inOrder(due time.Time) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	if due.Before(q.last) {
		due = q.last
	}
	q.last = due
	return due
}

func (q *queue) add(due time.Time, b []byte) {
	q.mu.Lock()
	q.seq++
	heap.Push(&q.items, unit{due: due, seq: q.seq, b: b})
	q.mu.Unlock()
	q.poke()
}

func (q *queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) finish() { q.mu.Lock(); q.finished = true; q.mu.Unlock(); q.poke() }
func (q *queue) close()  { q.mu.Lock(); q.closed = true; q.mu.Unlock(); q.poke() }

// drain writes units to w as they fall due, until the queue is closed, or finished and
// empty, or a write fails.
func (q *queue) drain(w io.Writer) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.mu.Lock()
		if q.closed || (q.finished && len(q.items) == 0) {
			q.mu.Unlock()
			return
		}
		var ready [][]byte
		now := time.Now()
		for len(q.items) > 0 && !q.items[0].due.After(now) {
			ready = append(ready, heap.Pop(&q.items).(unit).b)
		}
		wait := time.Hour
		if len(q.items) > 0 {
			wait = q.items[0].due.Sub(now)
		}
		q.mu.Unlock()
		for _, b := range ready {
			if _, err := w.Write(b); err != nil {
				q.close()
				return
			}
		}
		if len(ready) > 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-q.wake:
		case <-timer.C:
		}
	}
}

type unitHeap []unit

func (h unitHeap) Len() int { return len(h) }
func (h unitHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h unitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *unitHeap) Push(x any)   { *h = append(*h, x.(unit)) }
func (h *unitHeap) Pop() any {
	old := *h
	u := old[len(old)-1]
	*h = old[:len(old)-1]
	return u
}
