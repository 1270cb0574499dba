package etcdapi

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orrery/orrery/node/kv"
)

// Conversions between etcdserverpb and kv. kv's enums use the protos' numbering; a value
// outside uint8 becomes 255 so that kv refuses it rather than wrapping to a valid one.

func enum8(v int32) uint8 {
	if v < 0 || v > 255 {
		return 255
	}
	return uint8(v)
}

func rangeFromPB(r *pb.RangeRequest) *kv.RangeRequest {
	return &kv.RangeRequest{
		Key:               r.Key,
		RangeEnd:          r.RangeEnd,
		Limit:             r.Limit,
		Revision:          r.Revision,
		SortOrder:         kv.SortOrder(enum8(int32(r.SortOrder))),
		SortTarget:        kv.SortTarget(enum8(int32(r.SortTarget))),
		Serializable:      r.Serializable,
		KeysOnly:          r.KeysOnly,
		CountOnly:         r.CountOnly,
		MinModRevision:    r.MinModRevision,
		MaxModRevision:    r.MaxModRevision,
		MinCreateRevision: r.MinCreateRevision,
		MaxCreateRevision: r.MaxCreateRevision,
	}
}

func putFromPB(r *pb.PutRequest) *kv.PutRequest {
	return &kv.PutRequest{Key: r.Key, Value: r.Value, Lease: r.Lease, PrevKV: r.PrevKv,
		IgnoreValue: r.IgnoreValue, IgnoreLease: r.IgnoreLease}
}

func deleteFromPB(r *pb.DeleteRangeRequest) *kv.DeleteRangeRequest {
	return &kv.DeleteRangeRequest{Key: r.Key, RangeEnd: r.RangeEnd, PrevKV: r.PrevKv}
}

// errEmptyOp refuses a txn operation without a request: kv has no encoding for one.
// (etcd executes it as nothing and answers an empty ResponseOp.)
var errEmptyOp = status.Error(codes.InvalidArgument, "etcdserver: txn operation without a request")

func txnFromPB(r *pb.TxnRequest) (*kv.TxnRequest, error) {
	t := &kv.TxnRequest{Compare: make([]kv.Compare, len(r.Compare))}
	for i, c := range r.Compare {
		t.Compare[i] = compareFromPB(c)
	}
	var err error
	if t.Success, err = opsFromPB(r.Success); err != nil {
		return nil, err
	}
	if t.Failure, err = opsFromPB(r.Failure); err != nil {
		return nil, err
	}
	return t, nil
}

func compareFromPB(c *pb.Compare) kv.Compare {
	out := kv.Compare{
		Result:   kv.CompareResult(enum8(int32(c.Result))),
		Target:   kv.CompareTarget(enum8(int32(c.Target))),
		Key:      c.Key,
		RangeEnd: c.RangeEnd,
	}
	switch u := c.TargetUnion.(type) {
	case *pb.Compare_Version:
		out.Version = u.Version
	case *pb.Compare_CreateRevision:
		out.CreateRevision = u.CreateRevision
	case *pb.Compare_ModRevision:
		out.ModRevision = u.ModRevision
	case *pb.Compare_Value:
		out.Value = u.Value
	case *pb.Compare_Lease:
		out.Lease = u.Lease
	}
	return out
}

func opsFromPB(ops []*pb.RequestOp) ([]kv.RequestOp, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	out := make([]kv.RequestOp, len(ops))
	for i, op := range ops {
		switch {
		case op.GetRequestRange() != nil:
			out[i].Range = rangeFromPB(op.GetRequestRange())
		case op.GetRequestPut() != nil:
			out[i].Put = putFromPB(op.GetRequestPut())
		case op.GetRequestDeleteRange() != nil:
			out[i].DeleteRange = deleteFromPB(op.GetRequestDeleteRange())
		case op.GetRequestTxn() != nil:
			t, err := txnFromPB(op.GetRequestTxn())
			if err != nil {
				return nil, err
			}
			out[i].Txn = t
		default:
			return nil, errEmptyOp
		}
	}
	return out, nil
}

// txnReadOnly reports whether no branch of t, nested ones included, writes (etcd's
// isTxnReadonly), and txnSerializable whether every range in it is serializable.
func txnReadOnly(t *kv.TxnRequest) bool {
	for _, ops := range [][]kv.RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			if op.Put != nil || op.DeleteRange != nil || op.Txn != nil && !txnReadOnly(op.Txn) {
				return false
			}
		}
	}
	return true
}

func txnSerializable(t *kv.TxnRequest) bool {
	for _, ops := range [][]kv.RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			if op.Range != nil && !op.Range.Serializable || op.Txn != nil && !txnSerializable(op.Txn) {
				return false
			}
		}
	}
	return true
}

func kvToPB(k *kv.KeyValue) *mvccpb.KeyValue {
	if k == nil {
		return nil
	}
	return &mvccpb.KeyValue{Key: k.Key, CreateRevision: k.CreateRevision, ModRevision: k.ModRevision,
		Version: k.Version, Value: k.Value, Lease: k.Lease}
}

func kvsToPB(kvs []kv.KeyValue) []*mvccpb.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]*mvccpb.KeyValue, len(kvs))
	for i := range kvs {
		out[i] = kvToPB(&kvs[i])
	}
	return out
}

func eventsToPB(evs []kv.Event) []*mvccpb.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]*mvccpb.Event, len(evs))
	for i := range evs {
		e := &evs[i]
		out[i] = &mvccpb.Event{Type: mvccpb.Event_EventType(e.Type), Kv: kvToPB(&e.KV), PrevKv: kvToPB(e.PrevKV)}
	}
	return out
}

// The response converters take the header already filled (cluster, member, term and the
// kv revision).

func rangeToPB(r *kv.RangeResponse, h *pb.ResponseHeader) *pb.RangeResponse {
	return &pb.RangeResponse{Header: h, Kvs: kvsToPB(r.KVs), More: r.More, Count: r.Count}
}

func putToPB(r *kv.PutResponse, h *pb.ResponseHeader) *pb.PutResponse {
	return &pb.PutResponse{Header: h, PrevKv: kvToPB(r.PrevKV)}
}

func deleteToPB(r *kv.DeleteRangeResponse, h *pb.ResponseHeader) *pb.DeleteRangeResponse {
	return &pb.DeleteRangeResponse{Header: h, Deleted: r.Deleted, PrevKvs: kvsToPB(r.PrevKVs)}
}

// txnToPB converts a txn response. As in etcd, the operations' headers inside a txn carry
// the revision the store gave them and the member's identity.
func (s *Server) txnToPB(r *kv.TxnResponse, h *pb.ResponseHeader) *pb.TxnResponse {
	out := &pb.TxnResponse{Header: h, Succeeded: r.Succeeded}
	if len(r.Responses) > 0 {
		out.Responses = make([]*pb.ResponseOp, len(r.Responses))
	}
	for i := range r.Responses {
		op := &r.Responses[i]
		var resp pb.ResponseOp
		switch {
		case op.Range != nil:
			resp.Response = &pb.ResponseOp_ResponseRange{ResponseRange: rangeToPB(op.Range, s.header(op.Range.Header.Revision))}
		case op.Put != nil:
			resp.Response = &pb.ResponseOp_ResponsePut{ResponsePut: putToPB(op.Put, s.header(op.Put.Header.Revision))}
		case op.DeleteRange != nil:
			resp.Response = &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: deleteToPB(op.DeleteRange, s.header(op.DeleteRange.Header.Revision))}
		case op.Txn != nil:
			resp.Response = &pb.ResponseOp_ResponseTxn{ResponseTxn: s.txnToPB(op.Txn, s.header(op.Txn.Header.Revision))}
		}
		out.Responses[i] = &resp
	}
	return out
}

func membersToPB(ms []Member) []*pb.Member {
	out := make([]*pb.Member, len(ms))
	for i, m := range ms {
		out[i] = &pb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
	}
	return out
}
