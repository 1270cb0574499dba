package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/host/daemon"
	"github.com/orrery/orrery/host/member"
	"github.com/orrery/orrery/node/bugs"
	"github.com/orrery/orrery/sim/workload"
)

// nodeFlags follow etcd's names, so that an etcd deployment's flags carry over; each also
// reads ORRERY_<NAME> from the environment (etcd: ETCD_<NAME>).
func nodeFlags() []cli.Flag {
	env := func(name string) []string {
		return []string{"ORRERY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
	}
	str := func(name, value, usage string) cli.Flag {
		return &cli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: env(name)}
	}
	return []cli.Flag{
		str("name", "default", "human-readable name of this member"),
		str("data-dir", "", "data directory (default: NAME.orrery)"),
		str("listen-peer-urls", "http://127.0.0.1:2380", "URL to listen on for peer traffic"),
		str("listen-client-urls", "http://127.0.0.1:2379", "URLs to listen on for client (gRPC) traffic"),
		str("advertise-client-urls", "", "client URLs to advertise to the cluster (default: --listen-client-urls)"),
		str("initial-advertise-peer-urls", "", "peer URL to advertise (default: --listen-peer-urls)"),
		str("initial-cluster", "", "initial cluster: name=peerURL,... (default: NAME=--initial-advertise-peer-urls)"),
		str("initial-cluster-state", "new", "new (bootstrap or restart) or existing (join a running cluster after etcdctl member add, or start on a restored data dir)"),
		str("listen-metrics-urls", "", "URL to serve /metrics, /health and /version over HTTP"),
		&cli.Uint64Flag{Name: "snapshot-count", Value: 10000, Usage: "applied entries between snapshots (log compaction)", EnvVars: env("snapshot-count")},
		&cli.IntFlag{Name: "heartbeat-interval", Value: 100, Usage: "milliseconds between heartbeats (raft's tick)", EnvVars: env("heartbeat-interval")},
		&cli.IntFlag{Name: "election-timeout", Value: 1000, Usage: "milliseconds without a leader before an election", EnvVars: env("election-timeout")},
		&cli.IntFlag{Name: "max-request-bytes", Value: 1572864, Usage: "largest client request accepted", EnvVars: env("max-request-bytes")},
		str("cert-file", "", "client TLS certificate"),
		str("key-file", "", "client TLS key"),
		str("trusted-ca-file", "", "CA that client certificates must chain to (turns on client cert auth)"),
		str("peer-cert-file", "", "peer TLS certificate"),
		str("peer-key-file", "", "peer TLS key"),
		str("peer-trusted-ca-file", "", "CA of the peers' certificates (peer TLS is mutual)"),
		str("log-level", "info", "debug, info, warn or error"),
		&cli.StringSliceFlag{Name: "bug", Usage: "switch on a planted bug, for testing the test harness (repeatable): " + strings.Join(workload.AllBugs().Names(), ", ")},
		&cli.BoolFlag{Name: "enable-pprof", Usage: "serve Go's /debug/pprof/ profiles on --listen-metrics-urls", EnvVars: env("enable-pprof")},
		&cli.BoolFlag{Name: "unsafe-fault-admin", Usage: "serve POST /debug/orrery/faults on --listen-metrics-urls (clock skew, disk stall, fsync failure) for fault-injection tests; never in production"},
	}
}

func nodeCommand() *cli.Command {
	return &cli.Command{
		Name:  "node",
		Usage: "run one member of an Orrery cluster (etcd v3 API on the client URLs)",
		Flags: nodeFlags(),
		Action: func(c *cli.Context) error {
			o, err := nodeOptions(c)
			if err != nil {
				return usagef("node: %v", err)
			}
			d, err := daemon.Start(o)
			if err != nil {
				return cli.Exit(fmt.Sprintf("orrery node: %v", err), 1)
			}
			o.Logger.Info("serving", "name", c.String("name"), "id", o.Member.ID, "client", d.ClientAddrs(), "peer", d.M.PeerAddr())
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := d.Wait(ctx); err != nil {
				return cli.Exit(fmt.Sprintf("orrery node: %v", err), 1)
			}
			return nil
		},
	}
}

func logger(level string, w *os.File) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func nodeOptions(c *cli.Context) (daemon.Options, error) {
	var o daemon.Options
	name := c.String("name")
	log, err := logger(c.String("log-level"), os.Stderr)
	if err != nil {
		return o, err
	}
	peerURL := c.String("initial-advertise-peer-urls")
	if peerURL == "" {
		peerURL = c.String("listen-peer-urls")
	}
	cluster := c.String("initial-cluster")
	if cluster == "" {
		cluster = name + "=" + peerURL
	}
	peers, err := daemon.ParseCluster(cluster)
	if err != nil {
		return o, err
	}
	var self *member.Peer
	for i := range peers {
		if peers[i].Name == name {
			self = &peers[i]
		}
	}
	if self == nil {
		return o, fmt.Errorf("--name %q is not in --initial-cluster %q", name, cluster)
	}
	listenPeer, err := daemon.HostPort(c.String("listen-peer-urls"))
	if err != nil || len(listenPeer) != 1 {
		return o, fmt.Errorf("--listen-peer-urls: want one URL: %v", err)
	}
	listenClient, err := daemon.HostPort(c.String("listen-client-urls"))
	if err != nil {
		return o, fmt.Errorf("--listen-client-urls: %v", err)
	}
	advertise := c.String("advertise-client-urls")
	if advertise == "" {
		advertise = c.String("listen-client-urls")
	}
	if _, err := daemon.HostPort(advertise); err != nil {
		return o, fmt.Errorf("--advertise-client-urls: %v", err)
	}
	if c.Int("heartbeat-interval") <= 0 || c.Int("election-timeout") < 5*c.Int("heartbeat-interval") {
		return o, fmt.Errorf("--election-timeout (%d ms) must be at least 5 heartbeat intervals (%d ms)", c.Int("election-timeout"), c.Int("heartbeat-interval"))
	}
	dir := c.String("data-dir")
	if dir == "" {
		dir = name + ".orrery"
	}
	join := false
	switch state := c.String("initial-cluster-state"); state {
	case "new":
	case "existing":
		// With an empty data dir the member joins: it asks the members in
		// --initial-cluster for the member table and finds its ID there by its peer URL.
		join = !hasData(dir)
	default:
		return o, fmt.Errorf("--initial-cluster-state %q: want new or existing", state)
	}
	bs, err := bugSet(c.StringSlice("bug"))
	if err != nil {
		return o, err
	}
	clientTLS, err := tlsConfig(c.String("cert-file"), c.String("key-file"), c.String("trusted-ca-file"), false)
	if err != nil {
		return o, fmt.Errorf("client TLS: %v", err)
	}
	peerTLS, err := tlsConfig(c.String("peer-cert-file"), c.String("peer-key-file"), c.String("peer-trusted-ca-file"), true)
	if err != nil {
		return o, fmt.Errorf("peer TLS: %v", err)
	}
	var metrics string
	if u := c.String("listen-metrics-urls"); u != "" {
		a, err := daemon.HostPort(u)
		if err != nil || len(a) != 1 {
			return o, fmt.Errorf("--listen-metrics-urls: want one URL: %v", err)
		}
		metrics = a[0]
	}
	hb := time.Duration(c.Int("heartbeat-interval")) * time.Millisecond
	o = daemon.Options{
		Member: member.Config{
			ID: self.ID, Peers: peers, DataDir: dir, ListenPeer: listenPeer[0], PeerTLS: peerTLS,
			ClientURLs: strings.Split(advertise, ","), Tick: hb, ElectionTicks: c.Int("election-timeout") / c.Int("heartbeat-interval"),
			SnapshotEvery: c.Uint64("snapshot-count"), Bugs: bs, Join: join,
		},
		ListenClient: listenClient, ClientTLS: clientTLS, ListenMetrics: metrics,
		MaxRequestBytes: c.Int("max-request-bytes"), Logger: log, UnsafeFaultAdmin: c.Bool("unsafe-fault-admin"),
		EnablePprof: c.Bool("enable-pprof"),
	}
	if o.UnsafeFaultAdmin && metrics == "" {
		return o, fmt.Errorf("--unsafe-fault-admin needs --listen-metrics-urls")
	}
	if o.EnablePprof && metrics == "" {
		return o, fmt.Errorf("--enable-pprof needs --listen-metrics-urls")
	}
	return o, nil
}

func hasData(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "orrery.db"))
	return err == nil
}

func bugSet(names []string) (bugs.Set, error) {
	all := workload.AllBugs()
	for _, n := range names {
		if !all.Has(n) {
			return bugs.Set{}, fmt.Errorf("--bug %q: unknown planted bug (known: %s)", n, strings.Join(all.Names(), ", "))
		}
	}
	return bugs.With(names...), nil
}

// tlsConfig loads a certificate and, if ca is given, requires and verifies the other
// side's certificate against it. With mutual (peers) the config serves both ends.
func tlsConfig(cert, key, ca string, mutual bool) (*tls.Config, error) {
	if cert == "" && key == "" && ca == "" {
		return nil, nil
	}
	if cert == "" || key == "" {
		return nil, fmt.Errorf("a certificate needs both its cert file and its key file")
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", ca)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		if mutual {
			cfg.RootCAs = pool
		}
	} else if mutual {
		return nil, fmt.Errorf("peer TLS is mutual: give --peer-trusted-ca-file")
	}
	return cfg, nil
}
