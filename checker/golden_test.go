package checker

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orrery/orrery/checker/history"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the .violation golden files in testdata")

// TestGoldenHistories replays every history in testdata, named
// NAME.MODEL.VERDICT.jsonl. An illegal history's Violation must match
// NAME.MODEL.VERDICT.violation (refresh with -rewrite). Histories of failed
// checks join this corpus as permanent regressions.
func TestGoldenHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			parts := strings.Split(filepath.Base(path), ".")
			require.Len(t, parts, 4, "want NAME.MODEL.VERDICT.jsonl")
			model, verdict := parts[1], Verdict(parts[2])

			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			events, err := history.Read(f)
			require.NoError(t, err)

			res, err := Check(model, events, Options{})
			require.NoError(t, err)
			assert.Equal(t, verdict, res.Verdict)
			if verdict == Illegal {
				checkGolden(t, strings.TrimSuffix(path, ".jsonl")+".violation", res.Violation+"\n")
			}
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *rewrite {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -rewrite to create it")
	assert.Equal(t, string(want), got)
}
