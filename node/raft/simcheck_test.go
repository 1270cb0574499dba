package raft

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// check asserts the safety properties after a step; logMatching is costlier and runs
// periodically.
func (s *sim) check(logMatching bool) error {
	for _, sn := range s.up() {
		if err := s.checkLeader(sn); err != nil {
			return err
		}
		if err := s.checkCommitted(sn); err != nil {
			return err
		}
	}
	if logMatching {
		return s.checkLogMatching()
	}
	return nil
}

// checkLeader: election safety (one leader per term) and leader completeness (a leader of
// term T holds every entry committed in an earlier term).
func (s *sim) checkLeader(sn *simNode) error {
	if sn.n.role != RoleLeader {
		return nil
	}
	term := sn.n.term
	if l, ok := s.leaders[term]; ok && l != sn.id {
		return fmt.Errorf("election safety: nodes %d and %d are both leaders of term %d", l, sn.id, term)
	}
	s.leaders[term] = sn.id
	key := [2]uint64{sn.id, term}
	if s.seen[key] {
		return nil
	}
	s.seen[key] = true
	first := sn.n.log.firstIndex()
	for i, e := range s.committed {
		if s.obsTerm[i] >= term || i < first {
			continue
		}
		got, err := s.entryAt(sn, i)
		if err != nil || !sameEntry(got, e) {
			return fmt.Errorf("leader completeness: leader %d of term %d lacks committed entry %s (has %s, %v)", sn.id, term, e, got, err)
		}
	}
	return nil
}

func (s *sim) entryAt(sn *simNode, i uint64) (Entry, error) {
	ents, err := sn.n.log.slice(i, i+1, noLimit)
	if err != nil {
		return Entry{}, err
	}
	if len(ents) != 1 {
		return Entry{}, errors.New("no entry")
	}
	return ents[0], nil
}

func sameEntry(a, b Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

// checkCommitted: every entry a node considers committed matches what any node ever saw
// committed at that index (no committed entry is lost or changed).
func (s *sim) checkCommitted(sn *simNode) error {
	commit := sn.n.log.committed
	from := max(sn.checked+1, sn.n.log.firstIndex())
	for i := from; i <= commit; i++ {
		e, err := s.entryAt(sn, i)
		if err != nil {
			return fmt.Errorf("node %d: committed entry %d unreadable: %w", sn.id, i, err)
		}
		prev, ok := s.committed[i]
		if ok && !sameEntry(prev, e) {
			return fmt.Errorf("committed entry changed: index %d was %s, node %d (term %d) has %s committed", i, prev, sn.id, sn.n.term, e)
		}
		if !ok {
			s.committed[i] = e
			s.obsTerm[i] = sn.n.term
		}
		s.obsTerm[i] = min(s.obsTerm[i], sn.n.term)
		s.maxCommit = max(s.maxCommit, i)
	}
	sn.checked = max(sn.checked, commit)
	return nil
}

// checkLogMatching: if two logs hold an entry with the same index and term, they are
// identical up to it.
func (s *sim) checkLogMatching() error {
	up := s.up()
	for a := range up {
		for b := a + 1; b < len(up); b++ {
			if err := s.matchPair(up[a], up[b]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *sim) matchPair(x, y *simNode) error {
	lo := max(x.n.log.firstIndex(), y.n.log.firstIndex())
	hi := min(x.n.log.lastIndex(), y.n.log.lastIndex())
	if hi < lo {
		return nil
	}
	xe, err1 := x.n.log.slice(lo, hi+1, noLimit)
	ye, err2 := y.n.log.slice(lo, hi+1, noLimit)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("log matching: read logs: %v %v", err1, err2)
	}
	matched := false
	for k := len(xe) - 1; k >= 0; k-- {
		if xe[k].Term == ye[k].Term {
			matched = true
		}
		if matched && !sameEntry(xe[k], ye[k]) {
			return fmt.Errorf("log matching: nodes %d and %d agree at a later index but differ at %d: %s vs %s", x.id, y.id, xe[k].Index, xe[k], ye[k])
		}
	}
	return nil
}

// converge heals everything and demands that the cluster elects a leader, commits a final
// entry everywhere, and that all logs agree on the committed prefix.
func (s *sim) converge() error {
	clear(s.isolated)
	for _, sn := range s.nodes {
		if sn.n == nil {
			s.start(sn)
		}
	}
	proposed := false
	for round := range 3000 {
		s.quietRound(round%5 == 0)
		if err := s.check(false); err != nil {
			return fmt.Errorf("converge round %d: %w", round, err)
		}
		leader := s.leader()
		if leader == nil {
			continue
		}
		if !proposed {
			proposed = leader.n.Propose([]byte("final")) == nil
			continue
		}
		if s.converged(leader) {
			return s.checkLogMatching()
		}
	}
	return fmt.Errorf("liveness: no convergence after healing (%s)", s.describe())
}

func (s *sim) quietRound(tick bool) {
	leader := s.leader()
	for _, sn := range s.nodes {
		// Once there is a leader, nodes outside its configuration (removed ones that never
		// learned it) are decommissioned: they would otherwise campaign forever.
		if tick && (leader == nil || leader == sn || s.isMember(leader, sn.id)) {
			sn.n.Tick()
		}
		s.processReady(sn, false)
	}
	msgs := s.net
	s.net = nil
	for _, m := range msgs {
		s.deliver(m)
	}
}

func (s *sim) leader() *simNode {
	var best *simNode
	for _, sn := range s.nodes {
		if sn.n != nil && sn.n.role == RoleLeader && (best == nil || sn.n.term > best.n.term) {
			best = sn
		}
	}
	return best
}

func (s *sim) converged(leader *simNode) bool {
	last := leader.n.log.lastIndex()
	e, err := s.entryAt(leader, last)
	if err != nil || string(e.Data) != "final" && leader.n.log.committed < last {
		return false
	}
	for _, sn := range s.nodes {
		if !s.isMember(leader, sn.id) {
			continue
		}
		if sn.n.log.committed != last || sn.applied != last || sn.n.HasReady() {
			return false
		}
	}
	return true
}

func (s *sim) isMember(leader *simNode, id uint64) bool {
	cs := leader.n.config()
	return slices.Contains(cs.Voters, id) || slices.Contains(cs.Learners, id)
}

func (s *sim) describe() string {
	var out string
	for _, sn := range s.nodes {
		out += fmt.Sprintf("[%d %s term=%d commit=%d applied=%d last=%d] ", sn.id, sn.n.role, sn.n.term, sn.n.log.committed, sn.applied, sn.n.log.lastIndex())
	}
	return out
}
