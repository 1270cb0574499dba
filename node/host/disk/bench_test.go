package disk

import (
	"fmt"
	"testing"
)

// BenchmarkSync measures group commit: N appends of 256 B, then one Sync (one bbolt commit,
// one fdatasync), per iteration. ns/op is the latency of a Sync; records/s is what a
// component gets when it batches N records per sync. The figures depend on the device's
// fsync far more than on this package:
//
//	go test -run '^$' -bench Sync -benchtime 2s ./node/host/disk/
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
