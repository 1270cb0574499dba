package kv

import "fmt"

// Command encoding, version 1:
//
//	command  = version(1) uvarint(ClientID) uvarint(Seq) tag body
//	tag      = 1 put | 2 delete | 3 txn | 4 compaction | 5 grant | 6 revoke | 7 expire
//
// Integers are varints (int64 zigzag), byte strings are length-prefixed, booleans are
// packed into flag bytes. A Compare encodes only the operand its Target reads.

const commandVersion = 1

// Operation tags, shared by commands and txn operations (range appears only in txns).
const (
	tagPut byte = iota + 1
	tagDelete
	tagTxn
	tagCompaction
	tagGrant
	tagRevoke
	tagExpire
	tagRange
)

// Encode returns the command's binary form.
func (c *Command) Encode() []byte {
	e := &encoder{}
	e.byte(commandVersion)
	e.uvarint(c.ClientID)
	e.uvarint(c.Seq)
	switch {
	case c.Put != nil:
		e.byte(tagPut)
		e.put(c.Put)
	case c.DeleteRange != nil:
		e.byte(tagDelete)
		e.deleteRange(c.DeleteRange)
	case c.Txn != nil:
		e.byte(tagTxn)
		e.txn(c.Txn)
	case c.Compaction != nil:
		e.byte(tagCompaction)
		e.varint(c.Compaction.Revision)
		e.flags(c.Compaction.Physical)
	case c.LeaseGrant != nil:
		e.byte(tagGrant)
		e.varint(c.LeaseGrant.TTL)
		e.varint(c.LeaseGrant.ID)
	case c.LeaseRevoke != nil:
		e.byte(tagRevoke)
		e.varint(c.LeaseRevoke.ID)
	case c.LeaseExpire != nil:
		e.byte(tagExpire)
		e.uvarint(uint64(len(c.LeaseExpire.IDs)))
		for _, id := range c.LeaseExpire.IDs {
			e.varint(id)
		}
	default:
		panic("kv: encode of a command without an operation")
	}
	return e.b
}

// DecodeCommand parses Encode's output. Malformed input gives an error wrapping
// ErrMalformed that says what and where.
func DecodeCommand(b []byte) (Command, error) {
	d := &decoder{b: b}
	var c Command
	if v := d.byte(); d.err == nil && v != commandVersion {
		d.fail("unknown command version %d", v)
	}
	c.ClientID = d.uvarint()
	c.Seq = d.uvarint()
	switch tag := d.byte(); tag {
	case tagPut:
		c.Put = d.put()
	case tagDelete:
		c.DeleteRange = d.deleteRange()
	case tagTxn:
		c.Txn = d.txn()
	case tagCompaction:
		c.Compaction = &CompactionRequest{Revision: d.varint(), Physical: d.flags(1)[0]}
	case tagGrant:
		c.LeaseGrant = &LeaseGrantRequest{TTL: d.varint(), ID: d.varint()}
	case tagRevoke:
		c.LeaseRevoke = &LeaseRevokeRequest{ID: d.varint()}
	case tagExpire:
		c.LeaseExpire = &LeaseExpireRequest{IDs: d.leaseIDs()}
	default:
		d.fail("unknown command tag %d", tag)
	}
	if err := d.finish(); err != nil {
		return Command{}, fmt.Errorf("decode command: %w", err)
	}
	return c, nil
}

func (d *decoder) leaseIDs() []LeaseID {
	n := d.count()
	if n == 0 {
		return nil
	}
	ids := make([]LeaseID, n)
	for i := range ids {
		ids[i] = d.varint()
	}
	return ids
}

func (e *encoder) put(p *PutRequest) {
	e.bytes(p.Key)
	e.bytes(p.Value)
	e.varint(p.Lease)
	e.flags(p.PrevKV, p.IgnoreValue, p.IgnoreLease)
}

func (d *decoder) put() *PutRequest {
	p := &PutRequest{Key: d.bytes(), Value: d.bytes(), Lease: d.varint()}
	f := d.flags(3)
	p.PrevKV, p.IgnoreValue, p.IgnoreLease = f[0], f[1], f[2]
	return p
}

func (e *encoder) deleteRange(r *DeleteRangeRequest) {
	e.bytes(r.Key)
	e.bytes(r.RangeEnd)
	e.flags(r.PrevKV)
}

func (d *decoder) deleteRange() *DeleteRangeRequest {
	return &DeleteRangeRequest{Key: d.bytes(), RangeEnd: d.bytes(), PrevKV: d.flags(1)[0]}
}

func (e *encoder) rangeReq(r *RangeRequest) {
	e.bytes(r.Key)
	e.bytes(r.RangeEnd)
	e.varint(r.Limit)
	e.varint(r.Revision)
	e.byte(byte(r.SortOrder))
	e.byte(byte(r.SortTarget))
	e.flags(r.Serializable, r.KeysOnly, r.CountOnly)
	e.varint(r.MinModRevision)
	e.varint(r.MaxModRevision)
	e.varint(r.MinCreateRevision)
	e.varint(r.MaxCreateRevision)
}

func (d *decoder) rangeReq() *RangeRequest {
	r := &RangeRequest{Key: d.bytes(), RangeEnd: d.bytes(), Limit: d.varint(), Revision: d.varint()}
	r.SortOrder = SortOrder(d.enum("sort order", byte(SortDescend)))
	r.SortTarget = SortTarget(d.enum("sort target", byte(SortByValue)))
	f := d.flags(3)
	r.Serializable, r.KeysOnly, r.CountOnly = f[0], f[1], f[2]
	r.MinModRevision, r.MaxModRevision = d.varint(), d.varint()
	r.MinCreateRevision, r.MaxCreateRevision = d.varint(), d.varint()
	return r
}

func (e *encoder) txn(t *TxnRequest) {
	e.uvarint(uint64(len(t.Compare)))
	for i := range t.Compare {
		e.compare(&t.Compare[i])
	}
	e.ops(t.Success)
	e.ops(t.Failure)
}

func (d *decoder) txn() *TxnRequest {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxTxnDepth {
		d.fail("txn nested deeper than %d", maxTxnDepth)
		return &TxnRequest{}
	}
	t := &TxnRequest{}
	if n := d.count(); n > 0 {
		t.Compare = make([]Compare, n)
		for i := range t.Compare {
			t.Compare[i] = d.compare()
		}
	}
	t.Success = d.ops()
	t.Failure = d.ops()
	return t
}

func (e *encoder) compare(c *Compare) {
	e.byte(byte(c.Result))
	e.byte(byte(c.Target))
	e.bytes(c.Key)
	e.bytes(c.RangeEnd)
	switch c.Target {
	case TargetValue:
		e.bytes(c.Value)
	case TargetCreate:
		e.varint(c.CreateRevision)
	case TargetMod:
		e.varint(c.ModRevision)
	case TargetVersion:
		e.varint(c.Version)
	case TargetLease:
		e.varint(c.Lease)
	}
}

func (d *decoder) compare() Compare {
	c := Compare{Result: CompareResult(d.enum("compare result", byte(CompareNotEqual)))}
	c.Target = CompareTarget(d.enum("compare target", byte(TargetLease)))
	c.Key, c.RangeEnd = d.bytes(), d.bytes()
	switch c.Target {
	case TargetValue:
		c.Value = d.bytes()
	case TargetCreate:
		c.CreateRevision = d.varint()
	case TargetMod:
		c.ModRevision = d.varint()
	case TargetVersion:
		c.Version = d.varint()
	case TargetLease:
		c.Lease = d.varint()
	}
	return c
}

func (e *encoder) ops(ops []RequestOp) {
	e.uvarint(uint64(len(ops)))
	for _, op := range ops {
		switch {
		case op.Range != nil:
			e.byte(tagRange)
			e.rangeReq(op.Range)
		case op.Put != nil:
			e.byte(tagPut)
			e.put(op.Put)
		case op.DeleteRange != nil:
			e.byte(tagDelete)
			e.deleteRange(op.DeleteRange)
		case op.Txn != nil:
			e.byte(tagTxn)
			e.txn(op.Txn)
		default:
			panic("kv: encode of a txn operation without a request")
		}
	}
}

func (d *decoder) ops() []RequestOp {
	n := d.count()
	if n == 0 {
		return nil
	}
	ops := make([]RequestOp, n)
	for i := range ops {
		switch tag := d.byte(); tag {
		case tagRange:
			ops[i].Range = d.rangeReq()
		case tagPut:
			ops[i].Put = d.put()
		case tagDelete:
			ops[i].DeleteRange = d.deleteRange()
		case tagTxn:
			ops[i].Txn = d.txn()
		default:
			d.fail("unknown txn operation tag %d", tag)
		}
		if d.err != nil {
			return nil
		}
	}
	return ops
}
