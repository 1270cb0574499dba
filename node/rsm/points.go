package rsm

import (
	c "github.com/orrery/orrery/node/component"
)

// The server's fault points (see component.FaultPoint): rare but legal behaviour a
// simulator may ask for.
const (
	// FaultSlowSync: the sync of the Ready in flight takes five ticks longer than the disk
	// needed; its acknowledgements, applies and reads wait with it.
	FaultSlowSync = "rsm.slow-sync"
	// FaultSpuriousElection: a follower's election timer fires early and it campaigns
	// although its leader is alive (marked once per election timeout of ticks).
	FaultSpuriousElection = "rsm.spurious-election"
)

// The server's probes (see component.Probe): rare paths the simulator must reach.
const (
	ProbeSnapshotInstalled = "rsm.snapshot-installed"  // a follower installs a leader's snapshot
	ProbeWALRotated        = "rsm.wal-rotated"         // a snapshot rotates the WAL to a new segment
	ProbeRedirectNoLeader  = "rsm.redirect-no-leader"  // a request comes while no leader is known
	ProbeFollowerRead      = "rsm.follower-read-index" // a follower serves a read through a read index
	ProbeSyncHeld          = "rsm.sync-completed-late" // a slow sync's completion is finally handled
)

// Points declares the server's crash points, fault points and probes.
var Points = c.Points{
	Crash: []string{"rsm.written-not-synced", "rsm.voted-not-synced", "rsm.synced-not-acknowledged", "rsm.applied-not-sent", "rsm.leader-applied-not-sent"},
	Fault: []string{FaultSlowSync, FaultSpuriousElection},
	Probes: []string{ProbeSnapshotInstalled, ProbeWALRotated, ProbeRedirectNoLeader, ProbeFollowerRead,
		ProbeSyncHeld},
}

// Faulty is implemented by applications with fault points and probes of their own.
type Faulty interface {
	// Marks returns the probes reached and fault points passed since the last call
	// (component.Probe and component.FaultPoint effects).
	Marks() []c.Effect
	// Fire tells the application that the driver fired the fault point name it marked.
	Fire(name string)
}

// fired handles a fired fault point: the server's own, or its application's.
func (s *Server) fired(name string) []c.Effect {
	switch name {
	case FaultSlowSync:
		if s.inflight != nil {
			s.slowSync = s.inflightSync
		}
	case FaultSpuriousElection:
		if s.lead != uint64(s.cfg.ID) {
			_ = s.node.Campaign() // a learner cannot: nothing happens
		}
	default:
		if f, ok := s.app.(Faulty); ok {
			f.Fire(name)
		}
	}
	return nil
}

// syncDone handles a successful sync, holding it back when its Ready was picked to sync
// slowly: a slow disk, as far as anyone can tell.
func (s *Server) syncDone(id uint64) []c.Effect {
	if s.heldSync != 0 {
		s.heldSync = max(s.heldSync, id)
		return nil
	}
	if s.slowSync != 0 && id >= s.slowSync {
		s.slowSync, s.heldSync = 0, id
		return []c.Effect{c.SetTimer{ID: timerSlowSync, After: 5 * s.cfg.Tick}}
	}
	return s.synced(id)
}

// releaseSync handles the held sync completion.
func (s *Server) releaseSync() []c.Effect {
	id := s.heldSync
	s.heldSync = 0
	if id == 0 {
		return nil
	}
	return append([]c.Effect{c.Probe{Name: ProbeSyncHeld}}, s.synced(id)...)
}

// marks collects the application's probes and fault points.
func (s *Server) marks() []c.Effect {
	if f, ok := s.app.(Faulty); ok {
		return f.Marks()
	}
	return nil
}
