package kv

// Command is one replicated write: the payload of a committed raft entry. Exactly one
// operation field is set. ClientID and Seq identify the request for deduplication; a
// ClientID of 0 means "not deduplicated" (leader-made commands such as LeaseExpire).
type Command struct {
	ClientID uint64
	Seq      uint64

	Put         *PutRequest
	DeleteRange *DeleteRangeRequest
	Txn         *TxnRequest
	Compaction  *CompactionRequest
	LeaseGrant  *LeaseGrantRequest
	LeaseRevoke *LeaseRevokeRequest
	LeaseExpire *LeaseExpireRequest
}

// Response is the answer to a Command: the field matching the command's operation is set
// (none when Err is set).
type Response struct {
	Put         *PutResponse
	DeleteRange *DeleteRangeResponse
	Txn         *TxnResponse
	Compaction  *CompactionResponse
	LeaseGrant  *LeaseGrantResponse
	LeaseRevoke *LeaseRevokeResponse
	LeaseExpire *LeaseExpireResponse
}

// Result is what applying a Command produced.
type Result struct {
	Response
	// Err is the definite failure of the command (one of the package's sentinel errors); the
	// state did not change.
	Err error
	// Revision is the store's revision after the command.
	Revision int64
	// Events are the changes the command made, all at Revision, in the order made.
	Events []Event
	// Duplicate says the command was a retry of the client's last applied request: Response
	// and Err are the recorded ones and nothing was executed.
	Duplicate bool
	// Granted is the lease the command created, for the Lessor.
	Granted *LeaseStatus
	// Revoked lists the leases the command removed, for the Lessor.
	Revoked []LeaseID
}

// Apply executes a committed command. Every replica applying the same commands in the same
// order reaches byte-identical state (Snapshot) and gets identical Results. The Result
// shares memory with the store (and, for dedup, with later duplicates): read it, do not
// modify it.
func (s *Store) Apply(cmd Command) Result {
	if res, ok := s.deduplicate(&cmd); ok {
		return res
	}
	res := s.apply(&cmd)
	res.Revision = s.rev
	s.record(&cmd, &res)
	return res
}

func (s *Store) apply(cmd *Command) Result {
	if cmd.opCount() != 1 {
		panic("kv: Apply of a command without exactly one operation (see Command.Validate)")
	}
	if err := cmd.Validate(s.cfg); err != nil {
		return Result{Err: err}
	}
	switch {
	case cmd.Put != nil:
		return s.applyPut(cmd.Put)
	case cmd.DeleteRange != nil:
		return s.applyDelete(cmd.DeleteRange)
	case cmd.Txn != nil:
		return s.applyTxn(cmd.Txn)
	case cmd.Compaction != nil:
		return s.applyCompaction(cmd.Compaction)
	case cmd.LeaseGrant != nil:
		return s.applyGrant(cmd.LeaseGrant)
	case cmd.LeaseRevoke != nil:
		return s.applyRevoke(cmd.LeaseRevoke)
	default:
		return s.applyExpire(cmd.LeaseExpire)
	}
}

func (s *Store) applyPut(p *PutRequest) Result {
	if err := s.checkPutState(p, s.rev); err != nil {
		return Result{Err: err}
	}
	w := s.newWrite()
	resp := s.execPut(w, p)
	return Result{Response: Response{Put: resp}, Events: w.commit()}
}

func (s *Store) applyDelete(d *DeleteRangeRequest) Result {
	w := s.newWrite()
	resp := s.execDelete(w, d)
	return Result{Response: Response{DeleteRange: resp}, Events: w.commit()}
}

func (s *Store) applyTxn(t *TxnRequest) Result {
	w := s.newWrite()
	resp, err := s.txn(w, t)
	if err != nil {
		return Result{Err: err}
	}
	return Result{Response: Response{Txn: resp}, Events: w.commit()}
}

func (s *Store) applyCompaction(c *CompactionRequest) Result {
	if err := s.compact(c.Revision); err != nil {
		return Result{Err: err}
	}
	return Result{Response: Response{Compaction: &CompactionResponse{Header: s.header()}}}
}

func (s *Store) applyGrant(g *LeaseGrantRequest) Result {
	resp, err := s.grant(g)
	if err != nil {
		return Result{Err: err}
	}
	return Result{Response: Response{LeaseGrant: resp}, Granted: &LeaseStatus{ID: resp.ID, TTL: resp.TTL}}
}

func (s *Store) applyRevoke(r *LeaseRevokeRequest) Result {
	if s.leases[r.ID] == nil {
		return Result{Err: ErrLeaseNotFound}
	}
	w := s.newWrite()
	s.revoke(w, r.ID)
	evs := w.commit()
	return Result{Response: Response{LeaseRevoke: &LeaseRevokeResponse{Header: s.header()}},
		Events: evs, Revoked: []LeaseID{r.ID}}
}

// applyExpire revokes the listed leases that still exist, all in one revision.
func (s *Store) applyExpire(x *LeaseExpireRequest) Result {
	w := s.newWrite()
	var revoked []LeaseID
	for _, id := range x.IDs {
		if s.leases[id] != nil {
			s.revoke(w, id)
			revoked = append(revoked, id)
		}
	}
	evs := w.commit()
	resp := &LeaseExpireResponse{Header: s.header(), Revoked: revoked}
	return Result{Response: Response{LeaseExpire: resp}, Events: evs, Revoked: revoked}
}
