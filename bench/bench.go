package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Workloads lists the workloads Run knows, in the order the help text gives them.
var Workloads = []string{"put", "get", "sget", "txn", "watch", "lease", "fill"}

// Config describes one run.
type Config struct {
	// Workload is one of Workloads:
	//   put    Put of a random key of Keys
	//   get    linearizable Get of a random key
	//   sget   serializable Get of a random key
	//   txn    compare-and-swap: each client updates its own key with a Txn guarded by the
	//          key's last mod revision
	//   watch  Watchers watchers on one prefix, one writer putting to it; latency is from
	//          the put's send time to each watcher's receipt
	//   lease  lease keep-alive round trips (each client keeps one lease alive)
	//   fill   writes every key of Keys once, TxnOps puts per Txn (for loading data)
	Workload  string
	Endpoints []string
	// Conns gRPC connections are opened, connection i to Endpoints[i % len]; client i
	// uses connection i % Conns.
	Conns, Clients int
	// Keys is the key space (bench/00000000 ...); ValueSize the bytes of each value.
	Keys, ValueSize int
	// Total requests (watch: puts) across all clients; 0 runs for Duration instead.
	Total    int
	Duration time.Duration
	// Watchers for the watch workload; Rate bounds its writer's puts per second (0: back
	// to back).
	Watchers int
	Rate     float64
	// TxnOps is the puts per Txn of the fill workload.
	TxnOps int
	// Timeout bounds each request; 0 means 10 s.
	Timeout time.Duration
}

// Result is what a run measured. Latencies are in milliseconds.
type Result struct {
	Workload  string  `json:"workload"`
	Clients   int     `json:"clients"`
	Conns     int     `json:"conns"`
	Ops       int     `json:"ops"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// Samples are the latencies measured: one per request, or one per delivered event
	// (watch) or per Txn (fill).
	Samples int     `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	P999    float64 `json:"p999_ms"`
	// FirstError is the first failure seen, if any.
	FirstError string `json:"first_error,omitempty"`
}

func (r Result) String() string {
	s := fmt.Sprintf("%-6s %d clients/%d conns: %d ops in %.2fs = %.0f ops/s; latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms (%d samples), %d errors",
		r.Workload, r.Clients, r.Conns, r.Ops, r.Seconds, r.OpsPerSec, r.P50, r.P99, r.P999, r.Samples, r.Errors)
	if r.FirstError != "" {
		s += " (first: " + r.FirstError + ")"
	}
	return s
}

// ErrConfig wraps every invalid configuration.
var ErrConfig = errors.New("bench: invalid config")

func (c *Config) check() error {
	known := false
	for _, w := range Workloads {
		known = known || w == c.Workload
	}
	switch {
	case !known:
		return fmt.Errorf("%w: unknown workload %q (want one of %s)", ErrConfig, c.Workload, strings.Join(Workloads, ", "))
	case len(c.Endpoints) == 0:
		return fmt.Errorf("%w: no endpoints", ErrConfig)
	case c.Conns <= 0 || c.Clients <= 0:
		return fmt.Errorf("%w: conns and clients must be positive", ErrConfig)
	case c.Keys <= 0 || c.ValueSize < 0:
		return fmt.Errorf("%w: keys must be positive and value size not negative", ErrConfig)
	case c.Total <= 0 && c.Duration <= 0 && c.Workload != "fill":
		return fmt.Errorf("%w: give a total or a duration", ErrConfig)
	case c.Workload == "watch" && c.Watchers <= 0:
		return fmt.Errorf("%w: watch needs watchers", ErrConfig)
	}
	if c.TxnOps <= 0 {
		c.TxnOps = 100
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	return nil
}

// Run opens the connections, runs the workload and closes them again.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	conns, err := dial(cfg)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	r := &runner{cfg: cfg, conns: conns, value: value(cfg.ValueSize)}
	var res Result
	if cfg.Workload == "watch" {
		res, err = r.watch(ctx)
	} else {
		res, err = r.closedLoop(ctx)
	}
	res.Workload, res.Clients, res.Conns = cfg.Workload, cfg.Clients, cfg.Conns
	return res, err
}

func dial(cfg Config) ([]*clientv3.Client, error) {
	var conns []*clientv3.Client
	for i := range cfg.Conns {
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   []string{cfg.Endpoints[i%len(cfg.Endpoints)]},
			DialTimeout: 5 * time.Second,
			Logger:      zap.NewNop(),
		})
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("bench: connect to %s: %w", cfg.Endpoints[i%len(cfg.Endpoints)], err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// value is n bytes of printable filler.
func value(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

// Key is the name of key i of the key space.
func Key(i int) string { return fmt.Sprintf("bench/%08d", i) }

type runner struct {
	cfg   Config
	conns []*clientv3.Client
	value []byte
}

// tally collects the samples and errors of the clients.
type tally struct {
	mu      sync.Mutex
	samples []time.Duration
	ops     int
	errors  int
	first   error
}

func (t *tally) add(samples []time.Duration, ops, errs int, first error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.samples = append(t.samples, samples...)
	t.ops += ops
	t.errors += errs
	if t.first == nil {
		t.first = first
	}
}

func (t *tally) result(elapsed time.Duration) Result {
	res := Result{Ops: t.ops, Errors: t.errors, Seconds: elapsed.Seconds(), Samples: len(t.samples)}
	if elapsed > 0 {
		res.OpsPerSec = float64(t.ops) / elapsed.Seconds()
	}
	ps := Percentiles(t.samples, 0.5, 0.99, 0.999)
	res.P50, res.P99, res.P999 = ms(ps[0]), ms(ps[1]), ms(ps[2])
	if t.first != nil {
		res.FirstError = t.first.Error()
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newRand is client i's random source (fixed seeds: every run asks for the same keys).
func newRand(i int) *rand.Rand { return rand.New(rand.NewPCG(uint64(i)+1, 0x6f7272657279)) }

// atomicCounter hands out request numbers until the total is reached or time is up.
type atomicCounter struct {
	next     atomic.Int64
	total    int64
	deadline time.Time
}

func (c *atomicCounter) take() (int, bool) {
	n := c.next.Add(1) - 1
	if c.total > 0 {
		return int(n), n < c.total
	}
	return int(n), time.Now().Before(c.deadline)
}
