package rsm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	c "github.com/orrery/orrery/node/component"
)

// Refused tells the driver the server will not run: its WAL failed its checksums, so it
// lost state it once synced. A real member stops and names the reason; the simulator
// keeps the node down.
type Refused struct{ Reason string }

// MembersChanged tells the driver the member table after the change applied at log index
// Index: the peers to reach (and accept frames from) are its members.
type MembersChanged struct {
	Index   uint64
	Members []Member
}

// MemberRemoved tells the driver another member's removal was applied: its peer can go
// once the removed member has been told (RemovedNotice, already sent).
type MemberRemoved struct{ ID uint64 }

func (Refused) Notice()        {}
func (MembersChanged) Notice() {}
func (MemberRemoved) Notice()  {}

func (r Refused) String() string { return "refused: " + r.Reason }
func (m MembersChanged) String() string {
	return fmt.Sprintf("members@%d %s", m.Index, formatMembers(m.Members))
}
func (m MemberRemoved) String() string { return fmt.Sprintf("member-removed %d", m.ID) }

// RemovedNotice tells its receiver that its removal from the cluster was applied. The
// removed member may never apply the removal itself (the leader stopped replicating to
// it when the entry was appended), so every member that applies it says so.
type RemovedNotice struct{}

func (RemovedNotice) String() string { return "removed-notice" }

// Announce carries a member's name and client URLs to its peers, now and then: the
// member table knows peer URLs only, and a member added by URL has no name in it.
type Announce struct {
	Name       string
	ClientURLs []string
}

func (a Announce) String() string {
	return fmt.Sprintf("announce %s %s", a.Name, strings.Join(a.ClientURLs, ","))
}

// announceEvery is how many ticks pass between a server's announcements.
const announceEvery = 10

const timerRemoved = 3

// removedFile records that this server was removed from the cluster: a removed member
// that restarts refuses to run (as etcd's does) instead of campaigning with a
// configuration the others left behind.
const removedFile = "removed"

// removed starts a removed server's way out: it records the removal, keeps running for
// two election timeouts, so that its last answers leave and the others learn the commit,
// then halts.
func (s *Server) removed() []c.Effect {
	if s.removing {
		return nil
	}
	s.removing = true
	s.syncID++
	grace := 2 * s.cfg.Tick * time.Duration(s.cfg.ElectionTick)
	return []c.Effect{
		c.Append{File: removedFile, Record: []byte(ReasonRemoved)},
		c.Sync{ID: s.syncID},
		c.SetTimer{ID: timerRemoved, After: grace},
	}
}

// fromRemoved answers a raft message from a member whose removal this server applied
// (as leader): a removed member that missed its notice (it was down or cut off when the
// removal was applied) learns it from the first leader it reaches. Only removals applied
// here count, never mere absence from the table: a leader that has not applied an
// addition yet does not know the new member either, and telling it it was removed would
// take a live member out for good. (The set is not in snapshots: a server restored from
// one tells only those it saw removed since.)
func (s *Server) fromRemoved(from c.NodeID) []c.Effect {
	if s.lead != uint64(s.cfg.ID) || !s.removedIDs[uint64(from)] {
		return nil
	}
	return []c.Effect{c.Send{To: from, Msg: RemovedNotice{}}}
}

// announce sends this server's attributes to the other members, every announceEvery
// ticks (a server with none to tell, as in most simulations, sends nothing).
func (s *Server) announce() []c.Effect {
	if s.cfg.Name == "" && len(s.cfg.ClientURLs) == 0 || s.ticks%announceEvery != 1 {
		return nil
	}
	var effs []c.Effect
	for _, m := range s.members {
		if m.ID != uint64(s.cfg.ID) {
			effs = append(effs, c.Send{To: c.NodeID(m.ID), Msg: Announce{Name: s.cfg.Name, ClientURLs: slices.Clone(s.cfg.ClientURLs)}})
		}
	}
	return effs
}

// Announced returns what member id announced (its own attributes for this server), and
// false if nothing was heard from it yet.
func (s *Server) Announced(id uint64) (Announce, bool) {
	if id == uint64(s.cfg.ID) {
		return Announce{Name: s.cfg.Name, ClientURLs: slices.Clone(s.cfg.ClientURLs)}, true
	}
	a, ok := s.announced[id]
	return a, ok
}
