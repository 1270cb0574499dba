package kv

// Response encoding, for the dedup table in snapshots. Same primitives and tags as commands.

func (e *encoder) kv(kv *KeyValue) {
	e.bytes(kv.Key)
	e.varint(kv.CreateRevision)
	e.varint(kv.ModRevision)
	e.varint(kv.Version)
	e.bytes(kv.Value)
	e.varint(kv.Lease)
}

func (d *decoder) kv() KeyValue {
	return KeyValue{Key: d.bytes(), CreateRevision: d.varint(), ModRevision: d.varint(),
		Version: d.varint(), Value: d.bytes(), Lease: d.varint()}
}

func (e *encoder) kvs(kvs []KeyValue) {
	e.uvarint(uint64(len(kvs)))
	for i := range kvs {
		e.kv(&kvs[i])
	}
}

func (d *decoder) kvs() []KeyValue {
	n := d.count()
	if n == 0 {
		return nil
	}
	kvs := make([]KeyValue, n)
	for i := range kvs {
		kvs[i] = d.kv()
	}
	return kvs
}

// optKV encodes an optional KeyValue behind a presence flag.
func (e *encoder) optKV(kv *KeyValue) {
	e.flags(kv != nil)
	if kv != nil {
		e.kv(kv)
	}
}

func (d *decoder) optKV() *KeyValue {
	if !d.flags(1)[0] {
		return nil
	}
	kv := d.kv()
	return &kv
}

// response encodes r: a tag naming the field set (0: none), then that response.
func (e *encoder) response(r *Response) {
	switch {
	case r.Put != nil:
		e.byte(tagPut)
		e.putResp(r.Put)
	case r.DeleteRange != nil:
		e.byte(tagDelete)
		e.deleteResp(r.DeleteRange)
	case r.Txn != nil:
		e.byte(tagTxn)
		e.txnResp(r.Txn)
	case r.Compaction != nil:
		e.byte(tagCompaction)
		e.varint(r.Compaction.Header.Revision)
	case r.LeaseGrant != nil:
		e.byte(tagGrant)
		e.varint(r.LeaseGrant.Header.Revision)
		e.varint(r.LeaseGrant.ID)
		e.varint(r.LeaseGrant.TTL)
	case r.LeaseRevoke != nil:
		e.byte(tagRevoke)
		e.varint(r.LeaseRevoke.Header.Revision)
	case r.LeaseExpire != nil:
		e.byte(tagExpire)
		e.varint(r.LeaseExpire.Header.Revision)
		e.uvarint(uint64(len(r.LeaseExpire.Revoked)))
		for _, id := range r.LeaseExpire.Revoked {
			e.varint(id)
		}
	default:
		e.byte(0)
	}
}

func (d *decoder) response() Response {
	var r Response
	switch tag := d.byte(); tag {
	case 0:
	case tagPut:
		r.Put = d.putResp()
	case tagDelete:
		r.DeleteRange = d.deleteResp()
	case tagTxn:
		r.Txn = d.txnResp()
	case tagCompaction:
		r.Compaction = &CompactionResponse{Header: d.header()}
	case tagGrant:
		r.LeaseGrant = &LeaseGrantResponse{Header: d.header(), ID: d.varint(), TTL: d.varint()}
	case tagRevoke:
		r.LeaseRevoke = &LeaseRevokeResponse{Header: d.header()}
	case tagExpire:
		r.LeaseExpire = &LeaseExpireResponse{Header: d.header(), Revoked: d.leaseIDs()}
	default:
		d.fail("unknown response tag %d", tag)
	}
	return r
}

func (d *decoder) header() ResponseHeader { return ResponseHeader{Revision: d.varint()} }

func (e *encoder) putResp(r *PutResponse) {
	e.varint(r.Header.Revision)
	e.optKV(r.PrevKV)
}

func (d *decoder) putResp() *PutResponse {
	return &PutResponse{Header: d.header(), PrevKV: d.optKV()}
}

func (e *encoder) deleteResp(r *DeleteRangeResponse) {
	e.varint(r.Header.Revision)
	e.varint(r.Deleted)
	e.kvs(r.PrevKVs)
}

func (d *decoder) deleteResp() *DeleteRangeResponse {
	return &DeleteRangeResponse{Header: d.header(), Deleted: d.varint(), PrevKVs: d.kvs()}
}

func (e *encoder) rangeResp(r *RangeResponse) {
	e.varint(r.Header.Revision)
	e.kvs(r.KVs)
	e.flags(r.More)
	e.varint(r.Count)
}

func (d *decoder) rangeResp() *RangeResponse {
	return &RangeResponse{Header: d.header(), KVs: d.kvs(), More: d.flags(1)[0], Count: d.varint()}
}

func (e *encoder) txnResp(r *TxnResponse) {
	e.varint(r.Header.Revision)
	e.flags(r.Succeeded)
	e.uvarint(uint64(len(r.Responses)))
	for _, op := range r.Responses {
		switch {
		case op.Range != nil:
			e.byte(tagRange)
			e.rangeResp(op.Range)
		case op.Put != nil:
			e.byte(tagPut)
			e.putResp(op.Put)
		case op.DeleteRange != nil:
			e.byte(tagDelete)
			e.deleteResp(op.DeleteRange)
		case op.Txn != nil:
			e.byte(tagTxn)
			e.txnResp(op.Txn)
		default:
			panic("kv: encode of an empty txn response operation")
		}
	}
}

func (d *decoder) txnResp() *TxnResponse {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxTxnDepth {
		d.fail("txn response nested deeper than %d", maxTxnDepth)
		return &TxnResponse{}
	}
	r := &TxnResponse{Header: d.header(), Succeeded: d.flags(1)[0]}
	n := d.count()
	if n == 0 {
		return r
	}
	r.Responses = make([]ResponseOp, n)
	for i := range r.Responses {
		op := &r.Responses[i]
		switch tag := d.byte(); tag {
		case tagRange:
			op.Range = d.rangeResp()
		case tagPut:
			op.Put = d.putResp()
		case tagDelete:
			op.DeleteRange = d.deleteResp()
		case tagTxn:
			op.Txn = d.txnResp()
		default:
			d.fail("unknown txn response tag %d", tag)
		}
		if d.err != nil {
			return r
		}
	}
	return r
}

// errCode numbers err by its position in resultErrors (0: nil).
func errCode(err error) uint64 {
	if err == nil {
		return 0
	}
	for i, e := range resultErrors {
		if e == err {
			return uint64(i + 1)
		}
	}
	panic("kv: result error outside resultErrors: " + err.Error())
}

func (d *decoder) resultErr() error {
	c := d.uvarint()
	switch {
	case c == 0:
		return nil
	case c > uint64(len(resultErrors)):
		d.fail("unknown error code %d", c)
		return nil
	}
	return resultErrors[c-1]
}
