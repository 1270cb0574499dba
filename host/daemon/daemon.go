// Package daemon runs one Orrery member with its endpoints: the member (host/member),
// the etcd v3 gRPC API on the client URLs (host/etcdapi, over host/etcdapi/memberapi) and, if asked, an HTTP
// listener with /metrics and /health. `orrery node` and `orrery cluster up` are thin
// wrappers around it, and end-to-end tests start clusters with it.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/memberapi"
	"github.com/orrery/orrery/host/member"
	"github.com/orrery/orrery/host/metrics"
)

// Options describe one member process.
type Options struct {
	Member member.Config
	// ListenClient are the addresses (host:port) the gRPC API listens on.
	ListenClient []string
	ClientTLS    *tls.Config
	// ListenMetrics, if set, serves /metrics and /health over HTTP.
	ListenMetrics   string
	MaxRequestBytes int
	Logger          *slog.Logger
	// UnsafeFaultAdmin serves POST /debug/orrery/faults on the metrics listener, for
	// fault-injection harnesses: clock=DURATION skews the member's clock, stall=DURATION
	// stalls every sync, failsync=1 fails the next sync. Never enable it in production.
	UnsafeFaultAdmin bool
	// EnablePprof serves net/http/pprof's /debug/pprof/ on the metrics listener.
	EnablePprof bool
}

// Daemon is a running member with its endpoints.
type Daemon struct {
	M       *member.Member
	api     *etcdapi.Server
	lis     []net.Listener
	httpSrv *http.Server
	log     *slog.Logger
	errc    chan error
}

// Start starts the member and its listeners.
func Start(o Options) (*Daemon, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Member.Logger = o.Logger
	var lis []net.Listener
	closeAll := func() {
		for _, l := range lis {
			l.Close()
		}
	}
	// Listen first: a busy port should fail before the member takes its data dir.
	for _, addr := range o.ListenClient {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen for clients on %s: %w", addr, err)
		}
		lis = append(lis, l)
	}
	var ml net.Listener
	if o.ListenMetrics != "" {
		l, err := net.Listen("tcp", o.ListenMetrics)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen for metrics on %s: %w", o.ListenMetrics, err)
		}
		ml = l
	}
	m, err := member.Start(o.Member)
	if err != nil {
		closeAll()
		if ml != nil {
			ml.Close()
		}
		return nil, err
	}
	d := &Daemon{M: m, lis: lis, log: o.Logger, errc: make(chan error, len(lis)+1)}
	d.api = etcdapi.NewServer(memberapi.New(m), etcdapi.Options{TLS: o.ClientTLS, MaxRequestBytes: o.MaxRequestBytes, Logger: o.Logger})
	for _, l := range lis {
		go func() { d.errc <- d.api.Serve(l) }()
	}
	if ml != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		mux.Handle("/", d.api.Handler()) // /health and /version
		if o.UnsafeFaultAdmin {
			mux.HandleFunc("/debug/orrery/faults", d.faultAdmin)
		}
		if o.EnablePprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		d.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := d.httpSrv.Serve(ml); !errors.Is(err, http.ErrServerClosed) {
				d.errc <- err
			}
		}()
	}
	return d, nil
}

// ClientAddrs are the addresses the gRPC API listens on.
func (d *Daemon) ClientAddrs() []string {
	var out []string
	for _, l := range d.lis {
		out = append(out, l.Addr().String())
	}
	return out
}

// Wait returns when the member stops on its own (a halt, a corrupt data dir) or a
// listener fails, or ctx ends; it then stops everything.
func (d *Daemon) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case <-d.M.Done():
		err = d.M.Err()
	case err = <-d.errc:
	}
	d.Stop()
	return err
}

// Stop stops the endpoints and the member.
func (d *Daemon) Stop() {
	d.api.Stop()
	if d.httpSrv != nil {
		d.httpSrv.Close()
	}
	d.M.Stop()
}

// HostPort turns a URL list ("http://127.0.0.1:2379,https://...") into host:port
// addresses, refusing anything that is not a plain http(s) URL with a port.
func HostPort(urls string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(urls, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("bad URL %q: %w", raw, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Port() == "" || u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("bad URL %q: want http(s)://host:port", raw)
		}
		out = append(out, u.Host)
	}
	if len(out) == 0 {
		return nil, errors.New("no URL given")
	}
	return out, nil
}

// ParseCluster parses an --initial-cluster value ("n1=http://a:2380,n2=http://b:2380")
// into members numbered 1.. in the order given, so that every member derives the same IDs.
func ParseCluster(s string) ([]member.Peer, error) {
	var peers []member.Peer
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name, u, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("initial cluster entry %q: want name=http://host:port", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("initial cluster: member %q listed twice", name)
		}
		seen[name] = true
		addrs, err := HostPort(u)
		if err != nil || len(addrs) != 1 {
			return nil, fmt.Errorf("initial cluster entry %q: want one peer URL: %v", part, err)
		}
		peers = append(peers, member.Peer{ID: uint64(len(peers) + 1), Name: name, Addr: addrs[0], URL: u})
	}
	return peers, nil
}

// faultAdmin applies the fault injections a test harness asks for.
func (d *Daemon) faultAdmin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	dur := func(name string) (time.Duration, bool, error) {
		v := r.Form.Get(name)
		if v == "" {
			return 0, false, nil
		}
		x, err := time.ParseDuration(v)
		if err != nil {
			return 0, false, fmt.Errorf("%s=%q: %v", name, v, err)
		}
		return x, true, nil
	}
	clock, okClock, err1 := dur("clock")
	stall, okStall, err2 := dur("stall")
	if err := errors.Join(err1, err2); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if okClock {
		d.M.Faults().SkewClock(clock)
	}
	if okStall {
		d.M.Faults().StallSyncs(stall)
	}
	if r.Form.Get("failsync") == "1" {
		d.M.Faults().FailNextSync()
	}
	d.log.Warn("fault injected", "clock", clock, "stall", stall, "failsync", r.Form.Get("failsync"))
	fmt.Fprintln(w, "ok")
}
