package harness

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatSeedsAndShards(t *testing.T) {
	assert.Equal(t, "", FormatSeeds(nil))
	assert.Equal(t, "1-3,7,9-10", FormatSeeds([]uint64{1, 2, 3, 7, 9, 10}))
	seeds, err := ParseSeeds("1-10,42,100-105")
	require.NoError(t, err)
	assert.Equal(t, "1-10,42,100-105", FormatSeeds(seeds))

	var union []uint64
	for k := 1; k <= 3; k++ {
		part := Shard(seeds, k, 3)
		assert.InDelta(t, len(seeds)/3, len(part), 1)
		union = append(union, part...)
	}
	assert.ElementsMatch(t, seeds, union)
	assert.Equal(t, []uint64{2, 5, 8}, Shard([]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}, 2, 3))

	for _, bad := range []string{"", "3", "0/2", "3/2", "a/b", "1/0", "-1/2"} {
		_, _, err := ParseShard(bad)
		assert.Error(t, err, bad)
	}
	k, n, err := ParseShard("2/4")
	require.NoError(t, err)
	assert.Equal(t, [2]int{2, 4}, [2]int{k, n})
}

// A report survives its JSON form, and ReadReport refuses what it cannot trust.
func TestReportRoundTrip(t *testing.T) {
	sum := Summary{Seeds: 3, Ran: []uint64{1, 2, 4}, Safety: 1, CrashPoints: map[string]int{"a": 2}}
	sum.Failures = []Outcome{{Kind: Safety, Problem: "boom"}}
	sum.Failures[0].Result.Seed = 2
	rep := NewReport(sum, []string{"--workload", "kv"}, "1-4", "1/1")
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	got, err := ReadReport(&buf)
	require.NoError(t, err)
	assert.Equal(t, rep, got)
	back, err := got.Summary()
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2, 4}, back.Ran)
	assert.Equal(t, uint64(2), back.Failures[0].Result.Seed)

	for _, bad := range []string{`{"version": 2}`, `{"version": 1, "seeds": "1-3", "runs": 2}`, `{"version": 1, "runs": 2}`, `{"version": 1, "seeds": "x", "runs": 1}`, `[]`} {
		_, err := ReadReport(bytes.NewBufferString(bad))
		assert.Error(t, err, bad)
	}
}

func FuzzReadReport(f *testing.F) {
	f.Add([]byte(`{"version": 1, "setup": ["--workload", "all"], "planned": "1-4", "shard": "1/2", "seeds": "1,3", "runs": 2}`))
	f.Add([]byte(`{"version": 1, "seeds": "", "runs": 0, "failures": [{"seed": 3, "kind": "safety", "problem": "x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ReadReport(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever it accepts must turn into a summary and merge with itself only by
		// refusing the overlap (or being empty).
		sum, err := rep.Summary()
		require.NoError(t, err)
		require.Equal(t, rep.Runs, len(sum.Ran))
		if _, _, err := MergeReports([]Report{rep, rep}); err == nil && rep.Runs > 0 {
			t.Fatalf("a report merged with itself: %+v", rep)
		}
	})
}
