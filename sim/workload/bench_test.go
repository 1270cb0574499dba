package workload

import (
	"testing"
	"time"

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

func benchWorld(b *testing.B, faults string) {
	w, err := Lookup("register")
	if err != nil {
		b.Fatal(err)
	}
	sys, err := w.BuildSystem(Config{Nodes: 5})
	if err != nil {
		b.Fatal(err)
	}
	fs, err := sim.ParseFaults(faults)
	if err != nil {
		b.Fatal(err)
	}
	var simTime time.Duration
	var events int
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		res, err := sim.Run(sys, sim.Options{Seed: uint64(i + 1), Faults: fs})
		if err != nil {
			b.Fatal(err)
		}
		simTime += res.SimTime
		events += res.Events
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(simTime.Seconds()/wall, "sim-s/wall-s")
	b.ReportMetric(float64(events)/wall, "events/s")
}
