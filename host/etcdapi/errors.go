package etcdapi

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orrery/orrery/node/kv"
)

// grpcErrors maps the errors a client can see to etcd's gRPC statuses: clientv3 turns a
// status back into its typed error (rpctypes.ErrCompacted, ...) by the exact message.
var grpcErrors = []struct {
	err, grpc error
}{
	{kv.ErrCompacted, rpctypes.ErrGRPCCompacted},
	{kv.ErrFutureRev, rpctypes.ErrGRPCFutureRev},
	{kv.ErrEmptyKey, rpctypes.ErrGRPCEmptyKey},
	{kv.ErrKeyNotFound, rpctypes.ErrGRPCKeyNotFound},
	{kv.ErrValueProvided, rpctypes.ErrGRPCValueProvided},
	{kv.ErrLeaseProvided, rpctypes.ErrGRPCLeaseProvided},
	{kv.ErrTooManyOps, rpctypes.ErrGRPCTooManyOps},
	{kv.ErrDuplicateKey, rpctypes.ErrGRPCDuplicateKey},
	{kv.ErrInvalidSortOption, rpctypes.ErrGRPCInvalidSortOption},
	{kv.ErrLeaseNotFound, rpctypes.ErrGRPCLeaseNotFound},
	{kv.ErrLeaseExist, rpctypes.ErrGRPCLeaseExist},
	{kv.ErrLeaseTTLTooLarge, rpctypes.ErrGRPCLeaseTTLTooLarge},
	{kv.ErrNotLeader, rpctypes.ErrGRPCNotLeader},

	{ErrNoLeader, rpctypes.ErrGRPCNoLeader},
	{ErrLeaderChanged, rpctypes.ErrGRPCLeaderChanged},
	{ErrStopped, rpctypes.ErrGRPCStopped},
	{ErrTimeout, rpctypes.ErrGRPCTimeout},
	{ErrTimeoutDueToLeaderFail, rpctypes.ErrGRPCTimeoutDueToLeaderFail},
	{ErrTimeoutDueToConnectionLost, rpctypes.ErrGRPCTimeoutDueToConnectionLost},
	{ErrUnhealthy, rpctypes.ErrGRPCUnhealthy},
	{ErrTooManyRequests, rpctypes.ErrGRPCRequestTooManyRequests},
	{ErrRequestTooLarge, rpctypes.ErrGRPCRequestTooLarge},
	{ErrBadLeaderTransferee, rpctypes.ErrGRPCBadLeaderTransferee},
	{ErrCorrupt, rpctypes.ErrGRPCCorrupt},

	{ErrMemberNotFound, rpctypes.ErrGRPCMemberNotFound},
	{ErrMemberExists, rpctypes.ErrGRPCMemberExist},
	{ErrPeerURLExists, rpctypes.ErrGRPCPeerURLExist},
	{ErrMemberNotLearner, rpctypes.ErrGRPCMemberNotLearner},
	{ErrTooManyLearners, rpctypes.ErrGRPCTooManyLearners},
	{ErrLearnerNotReady, rpctypes.ErrGRPCLearnerNotReady},
}

// toGRPC turns a Backend or kv error into the status etcd would send. The first match
// wins, so a wrapped error keeps its meaning.
func toGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, m := range grpcErrors {
		if errors.Is(err, m.err) {
			return m.grpc
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Unknown, err.Error())
}

// unimplemented is the status of an RPC the backend cannot serve.
func unimplemented(what string) error {
	return status.Errorf(codes.Unimplemented, "orrery: %s is not supported by this member", what)
}

// errBadAnswer reports a backend answer without the response its request calls for: a
// broken backend, not a client error.
var errBadAnswer = status.Error(codes.Internal, "orrery: the member's answer does not match the request")
