package kv

import "slices"

// lease is the replicated part of a lease: its ID, granted TTL and attached keys. When it
// expires is the leader's business (Lessor), not the store's.
type lease struct {
	id   LeaseID
	ttl  int64
	keys map[string]struct{}
}

// attach moves key under lease id (0: none).
func (s *Store) attach(id LeaseID, key []byte) {
	if l := s.leases[id]; l != nil {
		l.keys[string(key)] = struct{}{}
	}
}

// detach takes key from lease id, if it is there.
func (s *Store) detach(id LeaseID, key []byte) {
	if l := s.leases[id]; l != nil {
		delete(l.keys, string(key))
	}
}

// grant creates a lease. The TTL is raised to the minimum TTL; an ID of 0 is replaced by
// one drawn deterministically from the revision and a counter, so every replica picks the
// same.
func (s *Store) grant(r *LeaseGrantRequest) (*LeaseGrantResponse, error) {
	if r.TTL > MaxLeaseTTL {
		return nil, ErrLeaseTTLTooLarge
	}
	id := r.ID
	if id == 0 {
		id = s.drawLeaseID()
	}
	if s.leases[id] != nil {
		return nil, ErrLeaseExist
	}
	ttl := max(r.TTL, s.cfg.MinLeaseTTL)
	s.leases[id] = &lease{id: id, ttl: ttl, keys: map[string]struct{}{}}
	return &LeaseGrantResponse{Header: s.header(), ID: id, TTL: ttl}, nil
}

// drawLeaseID picks an unused positive ID from (revision, draw counter).
func (s *Store) drawLeaseID() LeaseID {
	for {
		s.leaseSeq++
		id := LeaseID(mix64(uint64(s.rev)<<32^s.leaseSeq) >> 1)
		if id != 0 && s.leases[id] == nil {
			return id
		}
	}
}

// mix64 is SplitMix64's finaliser: a bijection that scatters nearby inputs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// revoke deletes lease id and its keys, in key order, within w.
func (s *Store) revoke(w *writeTxn, id LeaseID) {
	l := s.leases[id]
	for _, k := range l.sortedKeys() {
		w.deleteRange(span{start: []byte(k), single: true})
	}
	delete(s.leases, id)
}

func (l *lease) sortedKeys() []string {
	keys := make([]string, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Leases lists the leases, by ID.
func (s *Store) Leases() []LeaseStatus {
	ids := make([]LeaseID, 0, len(s.leases))
	for id := range s.leases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]LeaseStatus, len(ids))
	for i, id := range ids {
		out[i] = LeaseStatus{ID: id, TTL: s.leases[id].ttl}
	}
	return out
}

// LeaseTimeToLive reports a lease's granted TTL and, if keys, its attached keys in order.
// TTL is the granted TTL here; the leader's node replaces it with Lessor.Remaining. An
// unknown lease gets TTL -1, as etcd answers.
func (s *Store) LeaseTimeToLive(id LeaseID, keys bool) *LeaseTimeToLiveResponse {
	resp := &LeaseTimeToLiveResponse{Header: s.header(), ID: id, TTL: -1}
	l := s.leases[id]
	if l == nil {
		return resp
	}
	resp.TTL, resp.GrantedTTL = l.ttl, l.ttl
	if keys {
		for _, k := range l.sortedKeys() {
			resp.Keys = append(resp.Keys, []byte(k))
		}
	}
	return resp
}
