package elle

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the .report golden files in testdata")

// Every history in testdata, named NAME.VERDICT.jsonl (ok or violation), checks to its
// verdict; a violation's report must match NAME.violation.report (refresh with -rewrite).
// `orrery check --model append` is tested on the same files.
func TestGoldenHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			parts := strings.Split(filepath.Base(path), ".")
			require.Len(t, parts, 3, "want NAME.VERDICT.jsonl")
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			events, err := history.Read(f)
			require.NoError(t, err)
			res, err := Check(events)
			require.NoError(t, err)
			switch parts[1] {
			case "ok":
				assert.True(t, res.StrictSerializable, res.Report(0))
			case "violation":
				assert.False(t, res.StrictSerializable)
				golden(t, strings.TrimSuffix(path, ".jsonl")+".report", res.Report(0)+"\n")
			default:
				t.Fatalf("verdict %q: want ok or violation", parts[1])
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *rewrite {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -rewrite to create it")
	assert.Equal(t, string(want), got)
}
