package tcp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"
)

// frameSizes are a heartbeat, a forwarded 256-byte put and a batch of appended entries.
var frameSizes = []int{32, 320, 32 << 10}

// BenchmarkEncodeFrame frames a body the way a peer's writer does (header with CRC-32C,
// then the body) into a reused buffer.
func BenchmarkEncodeFrame(b *testing.B) {
	for _, n := range frameSizes {
		b.Run(fmt.Sprintf("bytes=%d", n), func(b *testing.B) {
			body := bytes.Repeat([]byte{0x5a}, n)
			buf := make([]byte, 0, HeaderLen+n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendFrame(buf[:0], body)
			}
		})
	}
}

// BenchmarkDecodeFrame reads frames off a stream with the Reader an inbound connection
// uses (one allocation per body: the body is handed to Deliver).
func BenchmarkDecodeFrame(b *testing.B) {
	for _, n := range frameSizes {
		b.Run(fmt.Sprintf("bytes=%d", n), func(b *testing.B) {
			var stream []byte
			for range 64 {
				stream = AppendFrame(stream, bytes.Repeat([]byte{0x5a}, n))
			}
			src := bytes.NewReader(stream)
			br := bufio.NewReaderSize(src, 64<<10)
			r := NewReader(br, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Next(); err == io.EOF {
					src.Reset(stream)
					br.Reset(src)
					if _, err := r.Next(); err != nil {
						b.Fatal(err)
					}
				} else if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
