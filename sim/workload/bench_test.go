package workload

import (
	"testing"
	"time"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/sim"
)

// BenchmarkRegister5Nodes measures the simulator on the register workload: 5 servers,
// 4 clients, 200 operations per seed, every fault on (swarm). It reports simulated seconds
// per wall second and events per wall second; the linearizability check is not included.
func BenchmarkRegister5Nodes(b *testing.B) {
	benchWorld(b, "all")
}

// BenchmarkRegister5NodesNoFaults is the same world without faults, as a baseline.
func BenchmarkRegister5NodesNoFaults(b *testing.B) {
	benchWorld(b, "none")
}

// BenchmarkRaftlog3NodesNoFaults measures raft in the simulator: 3 servers, 4 clients
// appending, no faults. It reports committed (acknowledged) appends per wall second.
func BenchmarkRaftlog3NodesNoFaults(b *testing.B) {
	benchWorkload(b, "raftlog", 3, "none")
}

// BenchmarkRaftreg3Nodes is the raft register under every fault (swarm).
func BenchmarkRaftreg3Nodes(b *testing.B) {
	benchWorkload(b, "raftreg", 3, "all")
}

// BenchmarkKV3Nodes is the MVCC store replicated by raft, with watching clients, under
// every fault (swarm): the kv workload's operations per wall second.
func BenchmarkKV3Nodes(b *testing.B) {
	benchWorkload(b, "kv", 3, "all")
}

// BenchmarkKV3NodesNoFaults is the kv workload without faults, as a baseline.
func BenchmarkKV3NodesNoFaults(b *testing.B) {
	benchWorkload(b, "kv", 3, "none")
}

func benchWorld(b *testing.B, faults string) {
	benchWorkload(b, "register", 5, faults)
}

func benchWorkload(b *testing.B, name string, nodes int, faults string) {
	w, err := Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	sys, err := w.BuildSystem(Config{Nodes: nodes})
	if err != nil {
		b.Fatal(err)
	}
	fs, err := sim.ParseFaults(faults)
	if err != nil {
		b.Fatal(err)
	}
	var simTime time.Duration
	var events, acked int
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		res, err := sim.Run(sys, sim.Options{Seed: uint64(i + 1), Faults: fs})
		if err != nil {
			b.Fatal(err)
		}
		simTime += res.SimTime
		events += res.Events
		for _, e := range res.History {
			if e.Type == history.OK {
				acked++
			}
		}
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(simTime.Seconds()/wall, "sim-s/wall-s")
	b.ReportMetric(float64(events)/wall, "events/s")
	b.ReportMetric(float64(acked)/wall, "acked-ops/s")
}
