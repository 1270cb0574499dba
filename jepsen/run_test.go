package jepsen

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/checker/history"
)

// fakeRun runs a short workload against a fake cluster with the fake nemeses.
func fakeRun(t *testing.T, workload string, extra ...Nemesis) (Summary, string) {
	t.Helper()
	out := t.TempDir()
	var fc *fakeCluster
	o := RunOptions{
		Nodes: 3, Time: 2 * time.Second, Rate: 150, Concurrency: 4, FaultInterval: 300 * time.Millisecond,
		Nemesis: []string{"fake"}, Workload: workload, Out: out, Seed: 7,
		OpTimeout: 500 * time.Millisecond, Recovery: 200 * time.Millisecond, FinalTimeout: 10 * time.Second,
		up: func(_ context.Context, o Options) (Cluster, error) {
			fc = newFakeCluster(t, o.Nodes)
			return fc, nil
		},
		nemeses: func(...string) ([]Nemesis, error) { return append([]Nemesis{&killNode{}, noop{}}, extra...), nil },
	}
	sum, err := Run(context.Background(), o)
	require.NoError(t, err)
	t.Logf("seed %d: %s: %s", sum.Seed, sum.Valid, sum.Verdict)
	return sum, out
}

func TestRunWorkloadsAgainstFakeCluster(t *testing.T) {
	for _, wl := range Workloads() {
		t.Run(wl, func(t *testing.T) {
			t.Parallel()
			sum, out := fakeRun(t, wl)
			assert.Equal(t, Valid, sum.Valid, "verdict: %s; errors: %v", sum.Verdict, sum.Errors)
			assert.Empty(t, sum.Errors)

			// The results folder has everything, and the history reads back.
			for _, f := range []string{HistoryFile, SummaryFile, TimelineFile, LatencyFile, ThroughputFile, "logs/n1.log"} {
				assert.FileExists(t, filepath.Join(out, f))
			}
			if wl == "register" {
				assert.FileExists(t, filepath.Join(out, VisualizationFile))
			}
			if wl == "watch" {
				assert.Positive(t, sum.Checker["read_checks"], "reads compared with the watchers' replays")
			}
			f, err := os.Open(filepath.Join(out, HistoryFile))
			require.NoError(t, err)
			events, err := history.Read(f)
			f.Close()
			require.NoError(t, err)
			require.NotEmpty(t, events)

			// Faults were applied, and the kills cost some operations their certainty.
			faults := map[string]int{}
			for _, fs := range sum.Faults {
				faults[fs.Name] = fs.Count
			}
			assert.Positive(t, faults["fake-kill"], "faults: %+v", sum.Faults)
			assert.Positive(t, faults["fake-noop"], "faults: %+v", sum.Faults)
			total := 0
			for _, c := range sum.Counts {
				total += c.OK
			}
			assert.Greater(t, total, 20, "counts: %+v", sum.Counts)

			b, err := os.ReadFile(filepath.Join(out, SummaryFile))
			require.NoError(t, err)
			back, err := ReadSummary(b)
			require.NoError(t, err)
			assert.Equal(t, sum.Valid, back.Valid)
			assert.Equal(t, wl, back.Workload)
		})
	}
}

// eraser is a "bug": it deletes every element of the set workload, acknowledged or not.
type eraser struct{}

func (eraser) Name() string { return "fake-eraser" }

func (eraser) Start(ctx context.Context, c Cluster, _ *rand.Rand) (string, error) {
	cli, err := dial(c.Endpoints())
	if err != nil {
		return "", err
	}
	defer cli.Close()
	resp, err := cli.Delete(ctx, setPrefix, clientv3.WithPrefix())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("erased %d elements", resp.Deleted), nil
}

func (eraser) Stop(context.Context, Cluster) error { return nil }

func TestRunFindsLostElements(t *testing.T) {
	sum, _ := fakeRun(t, "set", eraser{})
	require.Equal(t, Invalid, sum.Valid, sum.Verdict)
	assert.Contains(t, sum.Verdict, "lost")
	assert.Positive(t, sum.Checker["lost_count"])
}

// truncator is a "bug" for the append workload: it cuts every list back to its first
// element behind the transactions' backs, so later reads contradict earlier ones.
type truncator struct{}

func (truncator) Name() string { return "fake-truncator" }

func (truncator) Start(ctx context.Context, c Cluster, _ *rand.Rand) (string, error) {
	cli, err := dial(c.Endpoints())
	if err != nil {
		return "", err
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, appendPrefix, clientv3.WithPrefix())
	if err != nil {
		return "", err
	}
	cut := 0
	for _, kv := range resp.Kvs {
		first, _, more := strings.Cut(string(kv.Value), ",")
		if !more {
			continue
		}
		if _, err := cli.Put(ctx, string(kv.Key), first); err != nil {
			return "", err
		}
		cut++
	}
	return fmt.Sprintf("truncated %d lists", cut), nil
}

func (truncator) Stop(context.Context, Cluster) error { return nil }

func TestRunAppendFindsTruncatedLists(t *testing.T) {
	sum, _ := fakeRun(t, "append", truncator{})
	require.Equal(t, Invalid, sum.Valid, sum.Verdict)
	assert.Contains(t, sum.Verdict, "not strict serializable")
	assert.NotEmpty(t, sum.Checker["anomaly_kinds"])
}

// The member nemesis against the fake cluster, beside fake-kill (which restarts whatever
// it killed, but must not revive a removed member): the workloads' clients ride out a
// node that leaves and comes back as a new member, and the run ends with every node in.
func TestRunWithMemberNemesis(t *testing.T) {
	for _, wl := range []string{"register", "watch"} {
		t.Run(wl, func(t *testing.T) {
			t.Parallel()
			sum, _ := fakeRun(t, wl, &memberNemesis{})
			assert.Equal(t, Valid, sum.Valid, "verdict: %s; errors: %v", sum.Verdict, sum.Errors)
			assert.Empty(t, sum.Errors)
			faults := map[string]int{}
			for _, fs := range sum.Faults {
				faults[fs.Name] = fs.Count
			}
			assert.Positive(t, faults["member"], "faults: %+v", sum.Faults)
		})
	}
}
