package kv

import "fmt"

// The client protocol's payloads. A node answers writes with an encoded Reply, reads
// with an encoded Answer, and streams WatchResponses; the same encodings cross a real
// network or the simulator's, so a result looks the same wherever it came from.

// Query is a read or a lease query: exactly one field is set.
type Query struct {
	Range      *RangeRequest
	Txn        *TxnRequest // without writes (ReadTxn)
	TimeToLive *LeaseTimeToLiveRequest
	Leases     bool
	KeepAlive  LeaseID // non-zero: renew this lease (answered by the leader alone)
	HashKV     *HashKVRequest
}

// LeaseTimeToLiveRequest asks for a lease's remaining time and, if Keys, its keys.
type LeaseTimeToLiveRequest struct {
	ID   LeaseID
	Keys bool
}

// HashKVRequest asks for the MVCC hash up to Revision (0: current).
type HashKVRequest struct {
	Revision int64
}

// HashKVResponse answers a HashKVRequest.
type HashKVResponse struct {
	Header          ResponseHeader
	Hash            uint32
	CompactRevision int64
}

// LeaseLeasesResponse lists the leases.
type LeaseLeasesResponse struct {
	Header ResponseHeader
	Leases []LeaseStatus
}

// LeaseKeepAliveResponse answers a keep-alive with the lease's TTL, now renewed.
type LeaseKeepAliveResponse struct {
	Header ResponseHeader
	ID     LeaseID
	TTL    int64
}

// Answer is the reply to a Query: the matching field, or Err.
type Answer struct {
	Range      *RangeResponse
	Txn        *TxnResponse
	TimeToLive *LeaseTimeToLiveResponse
	Leases     *LeaseLeasesResponse
	KeepAlive  *LeaseKeepAliveResponse
	HashKV     *HashKVResponse
	Err        error
}

// Answer serves the queries the store can answer alone (not KeepAlive, which needs the
// leader's Lessor). TimeToLive reports the granted TTL; the node substitutes the Lessor's
// remaining time where it has one.
func (s *Store) Answer(q Query) Answer {
	switch {
	case q.Range != nil:
		r, err := s.Range(*q.Range)
		return Answer{Range: r, Err: err}
	case q.Txn != nil:
		t, err := s.ReadTxn(*q.Txn)
		return Answer{Txn: t, Err: err}
	case q.TimeToLive != nil:
		return Answer{TimeToLive: s.LeaseTimeToLive(q.TimeToLive.ID, q.TimeToLive.Keys)}
	case q.Leases:
		return Answer{Leases: &LeaseLeasesResponse{Header: s.header(), Leases: s.Leases()}}
	case q.HashKV != nil:
		h, c, err := s.HashKV(q.HashKV.Revision)
		if err != nil {
			return Answer{Err: err}
		}
		return Answer{HashKV: &HashKVResponse{Header: s.header(), Hash: h, CompactRevision: c}}
	}
	return Answer{Err: ErrMalformed} // a query without an operation
}

// Query tags.
const (
	qRange byte = iota + 1
	qTxn
	qTimeToLive
	qLeases
	qKeepAlive
	qHashKV
)

// Encode returns the query's binary form.
func (q *Query) Encode() []byte {
	e := &encoder{}
	switch {
	case q.Range != nil:
		e.byte(qRange)
		e.rangeReq(q.Range)
	case q.Txn != nil:
		e.byte(qTxn)
		e.txn(q.Txn)
	case q.TimeToLive != nil:
		e.byte(qTimeToLive)
		e.varint(q.TimeToLive.ID)
		e.flags(q.TimeToLive.Keys)
	case q.Leases:
		e.byte(qLeases)
	case q.KeepAlive != 0:
		e.byte(qKeepAlive)
		e.varint(q.KeepAlive)
	case q.HashKV != nil:
		e.byte(qHashKV)
		e.varint(q.HashKV.Revision)
	default:
		panic("kv: encode of a query without an operation")
	}
	return e.b
}

// DecodeQuery parses Query.Encode's output; errors wrap ErrMalformed.
func DecodeQuery(b []byte) (Query, error) {
	d := &decoder{b: b}
	var q Query
	switch tag := d.byte(); tag {
	case qRange:
		q.Range = d.rangeReq()
	case qTxn:
		q.Txn = d.txn()
	case qTimeToLive:
		q.TimeToLive = &LeaseTimeToLiveRequest{ID: d.varint(), Keys: d.flags(1)[0]}
	case qLeases:
		q.Leases = true
	case qKeepAlive:
		if q.KeepAlive = d.varint(); q.KeepAlive == 0 {
			d.fail("keep-alive of lease 0")
		}
	case qHashKV:
		q.HashKV = &HashKVRequest{Revision: d.varint()}
	default:
		d.fail("unknown query tag %d", tag)
	}
	if err := d.finish(); err != nil {
		return Query{}, fmt.Errorf("decode query: %w", err)
	}
	return q, nil
}

// Encode returns the answer's binary form.
func (a *Answer) Encode() []byte {
	e := &encoder{}
	e.uvarint(errCode(a.Err))
	switch {
	case a.Err != nil:
	case a.Range != nil:
		e.byte(qRange)
		e.rangeResp(a.Range)
	case a.Txn != nil:
		e.byte(qTxn)
		e.txnResp(a.Txn)
	case a.TimeToLive != nil:
		t := a.TimeToLive
		e.byte(qTimeToLive)
		e.varint(t.Header.Revision)
		e.varint(t.ID)
		e.varint(t.TTL)
		e.varint(t.GrantedTTL)
		e.uvarint(uint64(len(t.Keys)))
		for _, k := range t.Keys {
			e.bytes(k)
		}
	case a.Leases != nil:
		e.byte(qLeases)
		e.varint(a.Leases.Header.Revision)
		e.uvarint(uint64(len(a.Leases.Leases)))
		for _, l := range a.Leases.Leases {
			e.varint(l.ID)
			e.varint(l.TTL)
		}
	case a.KeepAlive != nil:
		e.byte(qKeepAlive)
		e.varint(a.KeepAlive.Header.Revision)
		e.varint(a.KeepAlive.ID)
		e.varint(a.KeepAlive.TTL)
	case a.HashKV != nil:
		e.byte(qHashKV)
		e.varint(a.HashKV.Header.Revision)
		e.uvarint(uint64(a.HashKV.Hash))
		e.varint(a.HashKV.CompactRevision)
	default:
		panic("kv: encode of an empty answer")
	}
	return e.b
}

// DecodeAnswer parses Answer.Encode's output; errors wrap ErrMalformed.
func DecodeAnswer(b []byte) (Answer, error) {
	d := &decoder{b: b}
	a := Answer{Err: d.resultErr()}
	if a.Err == nil && d.err == nil {
		switch tag := d.byte(); tag {
		case qRange:
			a.Range = d.rangeResp()
		case qTxn:
			a.Txn = d.txnResp()
		case qTimeToLive:
			t := &LeaseTimeToLiveResponse{Header: d.header(), ID: d.varint(), TTL: d.varint(), GrantedTTL: d.varint()}
			for n := d.count(); n > 0 && d.err == nil; n-- {
				t.Keys = append(t.Keys, d.bytes())
			}
			a.TimeToLive = t
		case qLeases:
			l := &LeaseLeasesResponse{Header: d.header()}
			for n := d.count(); n > 0 && d.err == nil; n-- {
				l.Leases = append(l.Leases, LeaseStatus{ID: d.varint(), TTL: d.varint()})
			}
			a.Leases = l
		case qKeepAlive:
			a.KeepAlive = &LeaseKeepAliveResponse{Header: d.header(), ID: d.varint(), TTL: d.varint()}
		case qHashKV:
			a.HashKV = &HashKVResponse{Header: d.header(), Hash: uint32(d.uvarint()), CompactRevision: d.varint()}
		default:
			d.fail("unknown answer tag %d", tag)
		}
	}
	if err := d.finish(); err != nil {
		return Answer{}, fmt.Errorf("decode answer: %w", err)
	}
	return a, nil
}

// Reply is a command's outcome as the client sees it: a response or a definite error.
type Reply struct {
	Response
	Err error
}

// EncodeReply returns the binary form of a command's outcome.
func EncodeReply(r Result) []byte {
	e := &encoder{}
	e.uvarint(errCode(r.Err))
	e.response(&r.Response)
	return e.b
}

// DecodeReply parses EncodeReply's output; errors wrap ErrMalformed.
func DecodeReply(b []byte) (Reply, error) {
	d := &decoder{b: b}
	r := Reply{Err: d.resultErr()}
	r.Response = d.response()
	if err := d.finish(); err != nil {
		return Reply{}, fmt.Errorf("decode reply: %w", err)
	}
	return r, nil
}

// EncodeWatchRequest returns the binary form of a watch request.
func EncodeWatchRequest(w WatchRequest) []byte {
	e := &encoder{}
	e.bytes(w.Key)
	e.bytes(w.RangeEnd)
	e.varint(w.StartRevision)
	e.flags(w.PrevKV, w.NoPut, w.NoDelete, w.ProgressNotify)
	e.varint(w.WatchID)
	return e.b
}

// DecodeWatchRequest parses EncodeWatchRequest's output; errors wrap ErrMalformed.
func DecodeWatchRequest(b []byte) (WatchRequest, error) {
	d := &decoder{b: b}
	w := WatchRequest{Key: d.bytes(), RangeEnd: d.bytes(), StartRevision: d.varint()}
	f := d.flags(4)
	w.PrevKV, w.NoPut, w.NoDelete, w.ProgressNotify = f[0], f[1], f[2], f[3]
	w.WatchID = d.varint()
	if err := d.finish(); err != nil {
		return WatchRequest{}, fmt.Errorf("decode watch request: %w", err)
	}
	return w, nil
}

// EncodeWatchResponse returns the binary form of a watch response.
func EncodeWatchResponse(w WatchResponse) []byte {
	e := &encoder{}
	e.varint(w.WatchID)
	e.varint(w.Header.Revision)
	e.varint(w.CompactRevision)
	e.flags(w.Canceled)
	e.uvarint(uint64(len(w.Events)))
	for i := range w.Events {
		ev := &w.Events[i]
		e.byte(byte(ev.Type))
		e.kv(&ev.KV)
		e.optKV(ev.PrevKV)
	}
	return e.b
}

// DecodeWatchResponse parses EncodeWatchResponse's output; errors wrap ErrMalformed.
func DecodeWatchResponse(b []byte) (WatchResponse, error) {
	d := &decoder{b: b}
	w := WatchResponse{WatchID: d.varint(), Header: d.header(), CompactRevision: d.varint(), Canceled: d.flags(1)[0]}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		ev := Event{Type: EventType(d.enum("event type", byte(EventDelete)))}
		ev.KV = d.kv()
		ev.PrevKV = d.optKV()
		w.Events = append(w.Events, ev)
	}
	if err := d.finish(); err != nil {
		return WatchResponse{}, fmt.Errorf("decode watch response: %w", err)
	}
	return w, nil
}
