package raft

// Inflights bounds the appends in flight to one peer, by count and by bytes. Each element
// is the last index of one append and its size; they are freed when acknowledged.
type Inflights struct {
	maxCount int
	maxBytes uint64 // 0 = unlimited
	items    []inflight
	bytes    uint64
}

type inflight struct {
	index uint64
	bytes uint64
}

func newInflights(maxCount int, maxBytes uint64) *Inflights {
	return &Inflights{maxCount: maxCount, maxBytes: maxBytes}
}

func (in *Inflights) add(index, bytes uint64) {
	in.items = append(in.items, inflight{index: index, bytes: bytes})
	in.bytes += bytes
}

// freeLE frees every append whose last index is <= index.
func (in *Inflights) freeLE(index uint64) {
	k := 0
	for k < len(in.items) && in.items[k].index <= index {
		in.bytes -= in.items[k].bytes
		k++
	}
	in.items = append(in.items[:0:0], in.items[k:]...)
}

// freeFirst frees the oldest append (a heartbeat response proves the peer is alive).
func (in *Inflights) freeFirst() {
	if len(in.items) > 0 {
		in.freeLE(in.items[0].index)
	}
}

// Full reports whether no more appends may be sent.
func (in *Inflights) Full() bool {
	return len(in.items) >= in.maxCount || (in.maxBytes > 0 && in.bytes >= in.maxBytes)
}

// Count is the number of appends in flight.
func (in *Inflights) Count() int { return len(in.items) }

func (in *Inflights) reset() {
	in.items = nil
	in.bytes = 0
}
