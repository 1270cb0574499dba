package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
)

// serve starts the etcd API over the in-memory backend and returns its address.
func serve(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := etcdapitest.New(etcdapitest.Config{ClientURLs: []string{"http://" + lis.Addr().String()}})
	srv := etcdapi.NewServer(b, etcdapi.Options{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		require.NoError(t, <-served)
		b.Close()
	})
	return lis.Addr().String()
}

// TestWorkloads runs every workload briefly and checks the counts (never the timings).
func TestWorkloads(t *testing.T) {
	addr := serve(t)
	base := Config{Endpoints: []string{addr}, Conns: 2, Clients: 4, Keys: 50, ValueSize: 256, Total: 40, Watchers: 5, TxnOps: 7}
	for _, w := range Workloads {
		t.Run(w, func(t *testing.T) {
			cfg := base
			cfg.Workload = w
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, cfg)
			require.NoError(t, err)
			assert.Zero(t, res.Errors, res.FirstError)
			switch w {
			case "fill":
				assert.Equal(t, 50, res.Ops)
				assert.Equal(t, 8, res.Samples) // ceil(50 / 7) Txns
			case "watch":
				assert.Equal(t, 40, res.Ops)
				assert.Equal(t, 40*5, res.Samples) // every put seen by every watcher
			default:
				assert.Equal(t, 40, res.Ops)
				assert.Equal(t, 40, res.Samples)
			}
			assert.Positive(t, res.P50)
			assert.LessOrEqual(t, res.P50, res.P99)
			assert.LessOrEqual(t, res.P99, res.P999)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	ok := Config{Workload: "put", Endpoints: []string{"x:1"}, Conns: 1, Clients: 1, Keys: 1, Total: 1}
	for name, mutate := range map[string]func(*Config){
		"unknown workload": func(c *Config) { c.Workload = "nope" },
		"no endpoints":     func(c *Config) { c.Endpoints = nil },
		"no clients":       func(c *Config) { c.Clients = 0 },
		"no keys":          func(c *Config) { c.Keys = 0 },
		"no total":         func(c *Config) { c.Total = 0 },
		"no watchers":      func(c *Config) { c.Workload, c.Watchers = "watch", 0 },
	} {
		cfg := ok
		mutate(&cfg)
		_, err := Run(context.Background(), cfg)
		assert.ErrorIs(t, err, ErrConfig, name)
	}
}

func TestPercentiles(t *testing.T) {
	var s []time.Duration
	for i := 1000; i >= 1; i-- {
		s = append(s, time.Duration(i))
	}
	assert.Equal(t, []time.Duration{500, 990, 999, 1000}, Percentiles(s, 0.5, 0.99, 0.999, 1))
	assert.Equal(t, []time.Duration{0}, Percentiles(nil, 0.5))
}
