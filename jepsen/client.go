package jepsen

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orrery/orrery/checker/history"
)

// env is what workloads share during a run: the history, process ids, and a way to
// connect to the cluster.
type env struct {
	rec       *recorder
	procs     *atomic.Int64 // the next unused process id
	timeout   time.Duration // per operation
	endpoints []string      // every node's client address
}

// newProcess returns a process id no one has used.
func (e *env) newProcess() int { return int(e.procs.Add(1) - 1) }

// dial connects to endpoints. The client is lazy: it does not wait for a connection, so
// a dead endpoint costs an operation's timeout, not the dial.
func dial(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          2 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
}

// client is one logical client of the workload: a connection, the process id it records
// under now, and its own random source. It is used by one goroutine.
type client struct {
	env     *env
	cli     *clientv3.Client
	process int
	rng     *rand.Rand
	state   any // the workload's per-client state (e.g. a lock session)
}

// result is how an operation ended.
type result struct {
	typ   history.Type
	value history.Value
	extra map[string]json.RawMessage
}

func okResult(v history.Value) result { return result{typ: history.OK, value: v} }

// do records one operation: the invoke, then op under the operation timeout, then its
// completion. After an indefinite (info) outcome the client continues under a new
// process id, as Jepsen does: the old process may still have an operation in flight.
func (c *client) do(ctx context.Context, f, key string, in history.Value, op func(context.Context) result) result {
	c.env.rec.invoke(c.process, f, key, in)
	octx, cancel := context.WithTimeout(ctx, c.env.timeout)
	r := op(octx)
	cancel()
	c.env.rec.complete(c.process, r.typ, r.value, r.extra)
	if r.typ == history.Info {
		c.process = c.env.newProcess()
	}
	return r
}

// failed turns an error into a completion: fail when the operation definitely did not
// take effect (a read always, since reads have no effect; a write only when the server
// rejected it outright), info otherwise (timeout, lost connection, no leader).
func failed(err error, read bool, in history.Value) result {
	if read || definite(err) {
		return result{typ: history.Fail, value: in, extra: errExtra(err)}
	}
	return result{typ: history.Info, value: in, extra: errExtra(err)}
}

// definite reports whether err says the request was refused before it could take effect.
func definite(err error) bool {
	if errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, rpctypes.ErrFutureRev) {
		return true
	}
	switch errCode(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange, codes.NotFound,
		codes.AlreadyExists, codes.PermissionDenied, codes.Unauthenticated, codes.ResourceExhausted:
		return true
	}
	return false
}

// errCode is the gRPC code of an error from clientv3 (codes.OK for nil).
func errCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code()
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return codes.Unknown
}

// errExtra keeps the error's text in the history, for people reading it.
func errExtra(err error) map[string]json.RawMessage {
	if err == nil {
		return nil
	}
	b, _ := json.Marshal(err.Error())
	return map[string]json.RawMessage{"error": b}
}

// revExtra records the revision a write produced.
func revExtra(rev int64) map[string]json.RawMessage {
	return map[string]json.RawMessage{"revision": json.RawMessage(strconv.FormatInt(rev, 10))}
}
