package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkSync measures group commit: N appends of 256 B, then one Sync (one bbolt commit,
// one fdatasync), per iteration. ns/op is the latency of a Sync; records/s is what a
// component gets when it batches N records per sync. The figures depend on the device's
// fsync far more than on this package:
//
//	go test -run '^$' -bench Sync -benchtime 2s ./host/disk/
func BenchmarkSync(b *testing.B) {
	rec := make([]byte, 256)
	for i := range rec {
		rec[i] = byte(i)
	}
	for _, n := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			d := open(b, b.TempDir())
			defer d.Close()
			b.SetBytes(int64(n * len(rec)))
			for b.Loop() {
				for range n {
					d.Append("wal", rec)
				}
				if err := d.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkFdatasyncBaseline is the floor BenchmarkSync is measured against: one append of
// 256 B to a plain file and one fdatasync per iteration, what a write-ahead log such as
// etcd's pays per group commit. A bbolt commit writes its pages and then its meta page,
// with an fdatasync after each.
func BenchmarkFdatasyncBaseline(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "wal"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, 256)
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
}
