package kv

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func benchKey(i int) []byte { return []byte(fmt.Sprintf("key/%08d", i)) }

// BenchmarkPutUpdate overwrites keys of a 10k-key store.
func BenchmarkPutUpdate(b *testing.B) {
	s := New(Config{})
	const n = 10_000
	for i := range n {
		s.Apply(Command{Put: &PutRequest{Key: benchKey(i), Value: []byte("v")}})
	}
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		s.Apply(Command{Put: &PutRequest{Key: benchKey(r.IntN(n)), Value: []byte("value")}})
	}
}

// BenchmarkPutNewKeys inserts new keys in random order (the sorted index's worst case).
func BenchmarkPutNewKeys(b *testing.B) {
	s := New(Config{})
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		s.Apply(Command{Put: &PutRequest{Key: benchKey(int(r.Uint32())), Value: []byte("value")}})
	}
	b.ReportMetric(float64(s.index.len()), "keys")
}

func rangeStore(n int) *Store {
	s := New(Config{})
	for i := range n {
		s.Apply(Command{Put: &PutRequest{Key: benchKey(i), Value: []byte("value")}})
	}
	return s
}

// BenchmarkRangeGet reads one key of a 100k-key store.
func BenchmarkRangeGet(b *testing.B) {
	s := rangeStore(100_000)
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Range(RangeRequest{Key: benchKey(r.IntN(100_000))}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRangeScan100 reads 100 consecutive keys of a 100k-key store.
func BenchmarkRangeScan100(b *testing.B) {
	s := rangeStore(100_000)
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		i := r.IntN(100_000 - 100)
		resp, err := s.Range(RangeRequest{Key: benchKey(i), RangeEnd: benchKey(i + 100)})
		if err != nil || len(resp.KVs) != 100 {
			b.Fatal(err, len(resp.KVs))
		}
	}
}

// BenchmarkWatchDispatch applies a put and delivers it, with 1000 watchers on distinct
// keys and 10 on a prefix of all of them.
func BenchmarkWatchDispatch(b *testing.B) {
	s := New(Config{})
	h := s.Watches()
	const n = 1000
	for i := range n {
		if _, err := h.Watch(WatchRequest{Key: benchKey(i)}); err != nil {
			b.Fatal(err)
		}
	}
	for range 10 {
		if _, err := h.Watch(WatchRequest{Key: []byte("key/"), RangeEnd: Prefix([]byte("key/"))}); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		s.Apply(Command{Put: &PutRequest{Key: benchKey(r.IntN(n)), Value: []byte("v")}})
		if got := len(h.Take()); got != 11 {
			b.Fatal("responses:", got)
		}
	}
}

// BenchmarkSnapshot encodes a 10k-key store with some history.
func BenchmarkSnapshot(b *testing.B) {
	s := rangeStore(10_000)
	for i := range 10_000 {
		s.Apply(Command{Put: &PutRequest{Key: benchKey(i), Value: []byte("value2")}})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Snapshot()
	}
}
