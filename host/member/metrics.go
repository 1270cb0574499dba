package member

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics use etcd's names where etcd has the same measure, so existing dashboards and
// alerts keep working.
var (
	leaderChanges = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "etcd_server_leader_changes_seen_total", Help: "Leader changes this member has seen.",
	})
	isLeader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "etcd_server_is_leader", Help: "1 while this member leads.",
	})
	fsyncSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "etcd_disk_wal_fsync_duration_seconds", Help: "Latency of WAL syncs (one journal frame and fdatasync each).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	proposals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "etcd_server_proposals_total", Help: "Client requests by kind and outcome.",
	}, []string{"kind", "outcome"})
	applyLag = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "etcd_server_apply_lag_entries", Help: "Committed entries not yet applied.",
	})
	committedIndex = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "etcd_server_proposals_committed_total", Help: "Raft commit index.",
	})
	watchStreams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "etcd_debugging_mvcc_watch_stream_total", Help: "Open watch streams on this member.",
	})
)

// Registry holds the member's metrics, for the /metrics handler. Members of one process
// (a local test cluster) share it.
var Registry = prometheus.NewRegistry()

func init() {
	Registry.MustRegister(leaderChanges, isLeader, fsyncSeconds, proposals, applyLag, committedIndex, watchStreams)
}

func observeRole(role string) {
	leaderChanges.Inc()
	if role == "leader" {
		isLeader.Set(1)
	} else {
		isLeader.Set(0)
	}
}

func observeSync(d time.Duration) { fsyncSeconds.Observe(d.Seconds()) }

func observeRequest(kind string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	proposals.WithLabelValues(kind, outcome).Inc()
}
