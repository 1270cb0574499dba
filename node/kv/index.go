package kv

import (
	"bytes"
	"slices"
	"sort"
)

// chunkMax bounds a chunk of the key index; a full chunk splits in two.
const chunkMax = 512

// keyIndex maps keys to their histories in key order. It is a sorted sequence of sorted
// chunks of at most chunkMax keys, a B-tree of height two: lookups are two binary searches,
// range scans walk contiguous memory, and inserting a key moves at most one chunk's tail
// (plus, on a split, the short chunk list). A flat sorted slice was 150 µs per new key at
// 500k keys; see BenchmarkPutNewKeys. Keys leave the index only when a compaction empties
// their history, in one pass (retain).
type keyIndex struct {
	chunks [][]*keyHistory // each non-empty and sorted; chunk i's keys precede chunk i+1's
	n      int
}

// search returns the position of the first key >= key: chunk ci, offset i. When every key
// is smaller, it points just past the end of the last chunk (ci is len(chunks) if empty).
func (x *keyIndex) search(key []byte) (ci, i int) {
	ci = sort.Search(len(x.chunks), func(c int) bool {
		ch := x.chunks[c]
		return bytes.Compare(ch[len(ch)-1].key, key) >= 0
	})
	if ci == len(x.chunks) {
		if ci == 0 {
			return 0, 0
		}
		return ci - 1, len(x.chunks[ci-1])
	}
	ch := x.chunks[ci]
	i = sort.Search(len(ch), func(j int) bool { return bytes.Compare(ch[j].key, key) >= 0 })
	return ci, i
}

// get returns key's history, or nil.
func (x *keyIndex) get(key []byte) *keyHistory {
	ci, i := x.search(key)
	if ci < len(x.chunks) && i < len(x.chunks[ci]) && bytes.Equal(x.chunks[ci][i].key, key) {
		return x.chunks[ci][i]
	}
	return nil
}

// getOrCreate returns key's history, adding an empty one if the key is new.
func (x *keyIndex) getOrCreate(key []byte) *keyHistory {
	if h := x.get(key); h != nil {
		return h
	}
	h := &keyHistory{key: bytes.Clone(key)}
	x.n++
	ci, i := x.search(key)
	if len(x.chunks) == 0 {
		x.chunks = [][]*keyHistory{{h}}
		return h
	}
	ch := slices.Insert(x.chunks[ci], i, h)
	if len(ch) <= chunkMax {
		x.chunks[ci] = ch
		return h
	}
	half := len(ch) / 2
	left := slices.Clone(ch[:half])
	right := slices.Clone(ch[half:])
	x.chunks[ci] = left
	x.chunks = slices.Insert(x.chunks, ci+1, right)
	return h
}

// ascend calls fn for every history in sp, in key order, until fn returns false.
func (x *keyIndex) ascend(sp span, fn func(*keyHistory) bool) {
	ci, i := x.search(sp.start)
	for ; ci < len(x.chunks); ci, i = ci+1, 0 {
		for _, h := range x.chunks[ci][i:] {
			if sp.beyond(h.key) || !fn(h) {
				return
			}
		}
	}
}

// all calls fn for every history in key order.
func (x *keyIndex) all(fn func(*keyHistory)) {
	for _, ch := range x.chunks {
		for _, h := range ch {
			fn(h)
		}
	}
}

// retain drops the histories keep rejects.
func (x *keyIndex) retain(keep func(*keyHistory) bool) {
	var kept []*keyHistory
	x.all(func(h *keyHistory) {
		if keep(h) {
			kept = append(kept, h)
		}
	})
	x.load(kept)
}

// load replaces the contents with hs, which must be sorted by key without duplicates.
func (x *keyIndex) load(hs []*keyHistory) {
	x.chunks, x.n = nil, len(hs)
	for len(hs) > 0 {
		n := min(len(hs), chunkMax/2) // half full: room to grow before splitting
		x.chunks = append(x.chunks, slices.Clone(hs[:n]))
		hs = hs[n:]
	}
}

func (x *keyIndex) len() int { return x.n }
