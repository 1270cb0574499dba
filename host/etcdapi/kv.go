package etcdapi

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/orrery/orrery/node/kv"
)

// kvServer is etcd's KV service.
type kvServer struct {
	pb.UnimplementedKVServer
	s *Server
}

// write replicates cmd; a definite kv error comes back as the error.
func (s *Server) write(ctx context.Context, cmd kv.Command) (kv.Response, error) {
	r, err := s.b.Write(ctx, cmd)
	if err != nil {
		return kv.Response{}, toGRPC(err)
	}
	if r.Err != nil {
		return kv.Response{}, toGRPC(r.Err)
	}
	return r.Response, nil
}

// query answers q; a definite kv error comes back as the error.
func (s *Server) query(ctx context.Context, q kv.Query, serializable bool) (kv.Answer, error) {
	a, err := s.b.Query(ctx, q, serializable)
	if err != nil {
		return kv.Answer{}, toGRPC(err)
	}
	if a.Err != nil {
		return kv.Answer{}, toGRPC(a.Err)
	}
	return a, nil
}

func (k *kvServer) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	a, err := k.s.query(ctx, kv.Query{Range: rangeFromPB(r)}, r.Serializable)
	if err != nil {
		return nil, err
	}
	if a.Range == nil {
		return nil, errBadAnswer
	}
	return rangeToPB(a.Range, k.s.header(a.Range.Header.Revision)), nil
}

func (k *kvServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	resp, err := k.s.write(ctx, kv.Command{Put: putFromPB(r)})
	if err != nil {
		return nil, err
	}
	if resp.Put == nil {
		return nil, errBadAnswer
	}
	return putToPB(resp.Put, k.s.header(resp.Put.Header.Revision)), nil
}

func (k *kvServer) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	resp, err := k.s.write(ctx, kv.Command{DeleteRange: deleteFromPB(r)})
	if err != nil {
		return nil, err
	}
	if resp.DeleteRange == nil {
		return nil, errBadAnswer
	}
	return deleteToPB(resp.DeleteRange, k.s.header(resp.DeleteRange.Header.Revision)), nil
}

// Txn serves a txn without writes as a query (serializable when all its ranges are, as
// etcd does) and one with writes through raft.
func (k *kvServer) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	t, err := txnFromPB(r)
	if err != nil {
		return nil, err
	}
	var resp *kv.TxnResponse
	if txnReadOnly(t) {
		a, err := k.s.query(ctx, kv.Query{Txn: t}, txnSerializable(t))
		if err != nil {
			return nil, err
		}
		resp = a.Txn
	} else {
		w, err := k.s.write(ctx, kv.Command{Txn: t})
		if err != nil {
			return nil, err
		}
		resp = w.Txn
	}
	if resp == nil {
		return nil, errBadAnswer
	}
	return k.s.txnToPB(resp, k.s.header(resp.Header.Revision)), nil
}

func (k *kvServer) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := k.s.write(ctx, kv.Command{Compaction: &kv.CompactionRequest{Revision: r.Revision, Physical: r.Physical}})
	if err != nil {
		return nil, err
	}
	if resp.Compaction == nil {
		return nil, errBadAnswer
	}
	return &pb.CompactionResponse{Header: k.s.header(resp.Compaction.Header.Revision)}, nil
}
