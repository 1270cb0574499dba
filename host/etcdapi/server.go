package etcdapi

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math"
	"net"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/api/v3/version"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Defaults for Options fields left zero; each is etcd's.
const (
	// DefaultMaxRequestBytes is etcd's --max-request-bytes.
	DefaultMaxRequestBytes = 1536 * 1024
	// grpcOverheadBytes is what etcd lets a gRPC message exceed the request limit by, so
	// that an oversized request reaches the handler and gets etcd's "request is too
	// large" rather than gRPC's own refusal.
	grpcOverheadBytes = 512 * 1024
	// DefaultProgressNotifyInterval is etcd's --experimental-watch-progress-notify-interval.
	DefaultProgressNotifyInterval = 10 * time.Minute
	// DefaultKeepAliveMinTime is etcd's --grpc-keepalive-min-time.
	DefaultKeepAliveMinTime = 5 * time.Second
)

// Options configure a Server. The zero value serves plaintext with etcd's defaults.
type Options struct {
	// TLS, when set, serves TLS; with ClientCAs set and ClientAuth at
	// tls.RequireAndVerifyClientCert (or left at NoClientCert, which is raised to it),
	// clients must present a certificate signed by one of them (mTLS).
	TLS *tls.Config
	// MaxRequestBytes bounds a request (0: DefaultMaxRequestBytes).
	MaxRequestBytes int
	// ProgressNotifyInterval is how often idle progress_notify watches get a progress
	// notification (0: DefaultProgressNotifyInterval).
	ProgressNotifyInterval time.Duration
	// Version is the etcd version the member reports ("": the etcd API module's version,
	// the API level this server speaks).
	Version string
	// Logger receives the server's few log lines (nil: slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.ProgressNotifyInterval <= 0 {
		o.ProgressNotifyInterval = DefaultProgressNotifyInterval
	}
	if o.Version == "" {
		o.Version = version.Version
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Server is the etcd v3 gRPC API of one member: KV, Watch, Lease, Cluster, Maintenance
// and a minimal Auth (disabled), plus gRPC health. Handler serves /health and /version.
type Server struct {
	b    Backend
	opts Options
	grpc *grpc.Server
	hsrv *health.Server
	stop chan struct{} // closed by Stop: ends watch and keep-alive streams
}

// NewServer returns a server for b; Serve starts it.
func NewServer(b Backend, opts Options) *Server {
	s := &Server{b: b, opts: opts.withDefaults(), stop: make(chan struct{})}
	gopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(s.opts.MaxRequestBytes + grpcOverheadBytes),
		grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.MaxConcurrentStreams(math.MaxUint32),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: DefaultKeepAliveMinTime}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Hour, Timeout: 20 * time.Second}),
	}
	if s.opts.TLS != nil {
		cfg := s.opts.TLS.Clone()
		if cfg.ClientCAs != nil && cfg.ClientAuth == tls.NoClientCert {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	s.grpc = grpc.NewServer(gopts...)
	pb.RegisterKVServer(s.grpc, &kvServer{s: s})
	pb.RegisterWatchServer(s.grpc, &watchServer{s: s})
	pb.RegisterLeaseServer(s.grpc, &leaseServer{s: s})
	pb.RegisterClusterServer(s.grpc, &clusterServer{s: s})
	pb.RegisterMaintenanceServer(s.grpc, &maintenanceServer{s: s})
	pb.RegisterAuthServer(s.grpc, &authServer{s: s})
	s.hsrv = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.hsrv)
	return s
}

// Serve accepts gRPC connections on lis until Stop; it returns nil after Stop.
func (s *Server) Serve(lis net.Listener) error {
	return s.grpc.Serve(lis)
}

// Stop closes the listeners and every connection at once, ending open streams.
func (s *Server) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.hsrv.Shutdown()
	s.grpc.Stop()
}

// header fills a response header: the member's identity and term, and rev.
func (s *Server) header(rev int64) *pb.ResponseHeader {
	h := s.b.Header()
	return &pb.ResponseHeader{ClusterId: h.ClusterID, MemberId: h.MemberID, RaftTerm: h.RaftTerm, Revision: rev}
}

// unaryInterceptor does etcd's checks before a handler: the request size (the gRPC limit
// has headroom so that this check, not gRPC's, refuses it) and, when the client asks for
// it, that there is a leader.
func (s *Server) unaryInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if m, ok := req.(proto.Message); ok && proto.Size(m) > s.opts.MaxRequestBytes {
		return nil, rpctypes.ErrGRPCRequestTooLarge
	}
	if err := s.checkLeader(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.checkLeader(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}

// checkLeader refuses a request carrying clientv3.WithRequireLeader's metadata while the
// member knows no leader.
func (s *Server) checkLeader(ctx context.Context) error {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil
	}
	if v := md.Get(rpctypes.MetadataRequireLeaderKey); len(v) > 0 && v[0] == rpctypes.MetadataHasLeader {
		if s.b.Header().Leader == 0 {
			return rpctypes.ErrGRPCNoLeader
		}
	}
	return nil
}
