package etcdapi

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/orrery/orrery/node/kv"
)

// leaseServer is etcd's Lease service.
type leaseServer struct {
	pb.UnimplementedLeaseServer
	s *Server
}

func (l *leaseServer) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	resp, err := l.s.write(ctx, kv.Command{LeaseGrant: &kv.LeaseGrantRequest{TTL: r.TTL, ID: r.ID}})
	if err != nil {
		return nil, err
	}
	g := resp.LeaseGrant
	if g == nil {
		return nil, errBadAnswer
	}
	return &pb.LeaseGrantResponse{Header: l.s.header(g.Header.Revision), ID: g.ID, TTL: g.TTL}, nil
}

func (l *leaseServer) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	resp, err := l.s.write(ctx, kv.Command{LeaseRevoke: &kv.LeaseRevokeRequest{ID: r.ID}})
	if err != nil {
		return nil, err
	}
	if resp.LeaseRevoke == nil {
		return nil, errBadAnswer
	}
	return &pb.LeaseRevokeResponse{Header: l.s.header(resp.LeaseRevoke.Header.Revision)}, nil
}

// LeaseTimeToLive answers TTL -1 for an unknown lease, as etcd does.
func (l *leaseServer) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	a, err := l.s.query(ctx, kv.Query{TimeToLive: &kv.LeaseTimeToLiveRequest{ID: r.ID, Keys: r.Keys}}, false)
	if err != nil {
		return nil, err
	}
	t := a.TimeToLive
	if t == nil {
		return nil, errBadAnswer
	}
	return &pb.LeaseTimeToLiveResponse{Header: l.s.header(t.Header.Revision), ID: t.ID, TTL: t.TTL,
		GrantedTTL: t.GrantedTTL, Keys: t.Keys}, nil
}

func (l *leaseServer) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	a, err := l.s.query(ctx, kv.Query{Leases: true}, false)
	if err != nil {
		return nil, err
	}
	if a.Leases == nil {
		return nil, errBadAnswer
	}
	out := &pb.LeaseLeasesResponse{Header: l.s.header(a.Leases.Header.Revision), Leases: make([]*pb.LeaseStatus, len(a.Leases.Leases))}
	for i, ls := range a.Leases.Leases {
		out.Leases[i] = &pb.LeaseStatus{ID: ls.ID}
	}
	return out, nil
}

// LeaseKeepAlive renews leases for as long as the client streams requests. As in etcd, an
// unknown lease is answered with TTL 0 (clientv3 then reports the lease gone), and any
// other failure ends the stream.
func (l *leaseServer) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	errc := make(chan error, 1)
	go func() { errc <- l.keepAlive(stream) }()
	select {
	case err := <-errc:
		return err
	case <-stream.Context().Done():
		return stream.Context().Err()
	case <-l.s.stop:
		return toGRPC(ErrStopped)
	}
}

func (l *leaseServer) keepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	ctx := stream.Context()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		resp := &pb.LeaseKeepAliveResponse{ID: req.ID}
		a := kv.Answer{Err: kv.ErrLeaseNotFound} // lease 0 never exists
		if req.ID != 0 {
			a, err = l.s.b.Query(ctx, kv.Query{KeepAlive: req.ID}, false)
		}
		switch {
		case err != nil:
			return toGRPC(err)
		case errors.Is(a.Err, kv.ErrLeaseNotFound):
			resp.Header = l.s.header(0)
		case a.Err != nil:
			return toGRPC(a.Err)
		case a.KeepAlive == nil:
			return errBadAnswer
		default:
			resp.Header, resp.TTL = l.s.header(a.KeepAlive.Header.Revision), a.KeepAlive.TTL
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
