package etcdapi

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// clusterServer is etcd's Cluster service. Membership changes need a MemberChanger.
type clusterServer struct {
	pb.UnimplementedClusterServer
	s *Server
}

// memberHeader is a Cluster response's header: etcd leaves the revision out.
func (c *clusterServer) memberHeader() *pb.ResponseHeader { return c.s.header(0) }

func (c *clusterServer) MemberList(ctx context.Context, _ *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	ms, err := c.s.b.Members(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberListResponse{Header: c.memberHeader(), Members: membersToPB(ms)}, nil
}

func (c *clusterServer) changer() (MemberChanger, error) {
	mc, ok := c.s.b.(MemberChanger)
	if !ok {
		return nil, unimplemented("membership change")
	}
	return mc, nil
}

func (c *clusterServer) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	mc, err := c.changer()
	if err != nil {
		return nil, err
	}
	m, ms, err := mc.MemberAdd(ctx, r.PeerURLs, r.IsLearner)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberAddResponse{Header: c.memberHeader(), Member: membersToPB([]Member{m})[0], Members: membersToPB(ms)}, nil
}

func (c *clusterServer) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	mc, err := c.changer()
	if err != nil {
		return nil, err
	}
	ms, err := mc.MemberRemove(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberRemoveResponse{Header: c.memberHeader(), Members: membersToPB(ms)}, nil
}

func (c *clusterServer) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	mc, err := c.changer()
	if err != nil {
		return nil, err
	}
	ms, err := mc.MemberUpdate(ctx, r.ID, r.PeerURLs)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberUpdateResponse{Header: c.memberHeader(), Members: membersToPB(ms)}, nil
}

func (c *clusterServer) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	mc, err := c.changer()
	if err != nil {
		return nil, err
	}
	ms, err := mc.MemberPromote(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberPromoteResponse{Header: c.memberHeader(), Members: membersToPB(ms)}, nil
}
