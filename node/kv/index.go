package kv

import (
	"bytes"
	"sort"
)

// keyIndex maps keys to their histories in key order. It is a sorted slice searched by
// binary search: lookups and range scans are O(log n + k); inserting a new key moves the
// tail (a memmove, cheap up to ~10^5 keys, see BenchmarkPut*). Keys leave the index only
// when a compaction empties their history, in one pass (retain).
type keyIndex struct {
	hs []*keyHistory
}

// search returns the position of the first key >= key.
func (x *keyIndex) search(key []byte) int {
	return sort.Search(len(x.hs), func(i int) bool { return bytes.Compare(x.hs[i].key, key) >= 0 })
}

// get returns key's history, or nil.
func (x *keyIndex) get(key []byte) *keyHistory {
	i := x.search(key)
	if i < len(x.hs) && bytes.Equal(x.hs[i].key, key) {
		return x.hs[i]
	}
	return nil
}

// getOrCreate returns key's history, adding an empty one if the key is new.
func (x *keyIndex) getOrCreate(key []byte) *keyHistory {
	i := x.search(key)
	if i < len(x.hs) && bytes.Equal(x.hs[i].key, key) {
		return x.hs[i]
	}
	h := &keyHistory{key: bytes.Clone(key)}
	x.hs = append(x.hs, nil)
	copy(x.hs[i+1:], x.hs[i:])
	x.hs[i] = h
	return h
}

// ascend calls fn for every history in sp, in key order, until fn returns false.
func (x *keyIndex) ascend(sp span, fn func(*keyHistory) bool) {
	for i := x.search(sp.start); i < len(x.hs); i++ {
		h := x.hs[i]
		if sp.beyond(h.key) {
			return
		}
		if !fn(h) {
			return
		}
	}
}

// all calls fn for every history in key order.
func (x *keyIndex) all(fn func(*keyHistory)) {
	for _, h := range x.hs {
		fn(h)
	}
}

// retain drops the histories keep rejects.
func (x *keyIndex) retain(keep func(*keyHistory) bool) {
	out := x.hs[:0]
	for _, h := range x.hs {
		if keep(h) {
			out = append(out, h)
		}
	}
	clear(x.hs[len(out):])
	x.hs = out
}

func (x *keyIndex) len() int { return len(x.hs) }
