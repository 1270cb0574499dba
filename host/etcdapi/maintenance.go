package etcdapi

import (
	"context"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/orrery/orrery/node/kv"
)

// defaultQuotaBytes is etcd's default backend quota (--quota-backend-bytes), reported by
// Status when the backend names none.
const defaultQuotaBytes = 2 << 30

// maintenanceServer is etcd's Maintenance service.
type maintenanceServer struct {
	pb.UnimplementedMaintenanceServer
	s *Server
}

// Alarm lists no alarms (the member raises none) and disarms nothing.
func (m *maintenanceServer) Alarm(_ context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	if r.Action == pb.AlarmRequest_ACTIVATE {
		return nil, unimplemented("raising alarms")
	}
	return &pb.AlarmResponse{Header: m.s.header(0), Alarms: []*pb.AlarmMember{}}, nil
}

func (m *maintenanceServer) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	st, err := m.s.b.Status(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	resp := &pb.StatusResponse{
		Header:           &pb.ResponseHeader{ClusterId: st.ClusterID, MemberId: st.MemberID, RaftTerm: st.RaftTerm, Revision: st.Revision},
		Version:          st.Version,
		DbSize:           st.DBSize,
		Leader:           st.Leader,
		RaftIndex:        st.RaftIndex,
		RaftTerm:         st.RaftTerm,
		RaftAppliedIndex: st.RaftAppliedIndex,
		Errors:           st.Errors,
		DbSizeInUse:      st.DBSizeInUse,
		IsLearner:        st.IsLearner,
		StorageVersion:   st.StorageVersion,
		DbSizeQuota:      st.DBSizeQuota,
		DowngradeInfo:    &pb.DowngradeInfo{},
	}
	if resp.Version == "" {
		resp.Version = m.s.opts.Version
	}
	if resp.StorageVersion == "" {
		resp.StorageVersion = storageVersion(m.s.opts.Version)
	}
	if resp.DbSizeInUse == 0 {
		resp.DbSizeInUse = resp.DbSize
	}
	if resp.DbSizeQuota == 0 {
		resp.DbSizeQuota = defaultQuotaBytes
	}
	if st.Leader == 0 {
		resp.Errors = append(resp.Errors, ErrNoLeader.Error())
	}
	return resp, nil
}

// storageVersion is etcd's storage version for a server version: major.minor.0.
func storageVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1] + ".0"
}

// Defragment asks a Defragmenter, and otherwise succeeds doing nothing.
func (m *maintenanceServer) Defragment(ctx context.Context, _ *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	if d, ok := m.s.b.(Defragmenter); ok {
		if err := d.Defragment(ctx); err != nil {
			return nil, toGRPC(err)
		}
	}
	return &pb.DefragmentResponse{Header: m.s.header(0)}, nil
}

func (m *maintenanceServer) Hash(context.Context, *pb.HashRequest) (*pb.HashResponse, error) {
	return nil, unimplemented("Hash (use HashKV)")
}

// HashKV hashes this member's applied state, like etcd's (a local, serializable read).
func (m *maintenanceServer) HashKV(ctx context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	a, err := m.s.query(ctx, kv.Query{HashKV: &kv.HashKVRequest{Revision: r.Revision}}, true)
	if err != nil {
		return nil, err
	}
	h := a.HashKV
	if h == nil {
		return nil, errBadAnswer
	}
	rev := r.Revision
	if rev <= 0 {
		rev = h.Header.Revision
	}
	return &pb.HashKVResponse{Header: m.s.header(h.Header.Revision), Hash: h.Hash,
		CompactRevision: h.CompactRevision, HashRevision: rev}, nil
}

func (m *maintenanceServer) MoveLeader(ctx context.Context, r *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	lm, ok := m.s.b.(LeaderMover)
	if !ok {
		return nil, unimplemented("MoveLeader")
	}
	if err := lm.MoveLeader(ctx, r.TargetID); err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MoveLeaderResponse{Header: m.s.header(0)}, nil
}

func (m *maintenanceServer) Downgrade(context.Context, *pb.DowngradeRequest) (*pb.DowngradeResponse, error) {
	return nil, unimplemented("Downgrade")
}
