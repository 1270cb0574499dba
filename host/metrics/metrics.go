// Package metrics holds a real member's Prometheus metrics, under etcd's names where etcd
// has the same measure, and the functions the host packages record them with.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// etcd's names keep existing dashboards and alerts working.
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

// ObserveRole records a role change: to leader, or away from it.
func ObserveRole(leader bool) {
	leaderChanges.Inc()
	if leader {
		isLeader.Set(1)
	} else {
		isLeader.Set(0)
	}
}

// ObserveSync records a WAL sync's latency.
func ObserveSync(d time.Duration) { fsyncSeconds.Observe(d.Seconds()) }

// ObserveRaft records the raft commit index and how far apply lags behind it.
func ObserveRaft(commit, applied uint64) {
	applyLag.Set(float64(commit - min(applied, commit)))
	committedIndex.Set(float64(commit))
}

// SetWatchStreams records how many watch streams are open.
func SetWatchStreams(n int) { watchStreams.Set(float64(n)) }

// ObserveRequest records a client request of kind ("write", "read") and its outcome.
func ObserveRequest(kind string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	proposals.WithLabelValues(kind, outcome).Inc()
}
