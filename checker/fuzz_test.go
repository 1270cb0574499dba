package checker

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orrery/orrery/checker/history"
)

// FuzzCheck feeds Check every history Read accepts: it must return an error
// or a verdict, never panic, and explain every illegal verdict.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	for _, path := range files {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, model := range Models() {
			res, err := Check(model, events, Options{Timeout: time.Second})
			if err != nil {
				continue
			}
			if res.Verdict == Illegal && res.Violation == "" {
				t.Fatalf("model %s: illegal without a violation", model)
			}
			if err := res.WriteHTML(&bytes.Buffer{}); err != nil {
				t.Fatalf("model %s: WriteHTML: %v", model, err)
			}
		}
	})
}
