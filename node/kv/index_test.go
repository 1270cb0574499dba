package kv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeyIndex compares the chunked index with a sorted slice of keys under random
// inserts, scans and compactions, across many chunk splits.
func TestKeyIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var x keyIndex
	var ref []string
	for step := range 6000 {
		k := fmt.Sprintf("k%05d", r.IntN(5000))
		x.getOrCreate([]byte(k))
		if i, ok := slices.BinarySearch(ref, k); !ok {
			ref = slices.Insert(ref, i, k)
		}
		if step%1000 == 999 { // drop every third key
			x.retain(func(h *keyHistory) bool { return h.key[len(h.key)-1]%3 != 0 })
			ref = slices.DeleteFunc(ref, func(k string) bool { return k[len(k)-1]%3 == 0 })
		}
		if step%97 == 0 {
			lo := fmt.Sprintf("k%05d", r.IntN(5000))
			hi := fmt.Sprintf("k%05d", r.IntN(5000))
			var got []string
			x.ascend(mkSpan([]byte(lo), []byte(hi)), func(h *keyHistory) bool {
				got = append(got, string(h.key))
				return true
			})
			var want []string
			for _, k := range ref {
				if k >= lo && k < hi {
					want = append(want, k)
				}
			}
			require.Equal(t, want, got, "step %d [%s, %s)", step, lo, hi)
		}
	}
	require.Equal(t, len(ref), x.len())
	var all []string
	x.all(func(h *keyHistory) { all = append(all, string(h.key)) })
	require.Equal(t, ref, all)
	require.Nil(t, x.get([]byte("nope")))
	for _, ch := range x.chunks {
		require.NotEmpty(t, ch)
		require.LessOrEqual(t, len(ch), chunkMax)
	}
}
