package jepsen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orrery/orrery/checker"
)

// RunOptions configure a Jepsen run. Zero fields take the defaults in parentheses.
type RunOptions struct {
	Nodes         int           // cluster size (5)
	Time          time.Duration // length of the faulty phase (60s)
	Rate          float64       // operations per second, over all clients (50)
	Concurrency   int           // logical clients (10)
	FaultInterval time.Duration // a fault lasts this long, then as long healthy (10s)
	Nemesis       []string      // nemesis names, "all" for every kind, "none" for none (all)
	Workload      string        // register, set, watch or lock (register)
	Bugs          []string      // planted bugs passed to the nodes
	EtcdBin       string        // run this etcd binary instead of Orrery nodes
	Binary        string        // the orrery binary the nodes run
	Out           string        // results folder (results/<timestamp>)
	Seed          int64         // the nemesis schedule's and the generator's seed (from the clock)
	OpTimeout     time.Duration // per operation; past it the outcome is info (5s)
	Recovery      time.Duration // healthy time after healing, before the final operations (5s)
	FinalTimeout  time.Duration // how long the final operations may take (30s)
	CheckTimeout  time.Duration // the linearizability search's budget (2m)
	Logger        *slog.Logger  // progress (discarded)

	// up and nemeses replace Up and Nemeses in tests.
	up      func(context.Context, Options) (Cluster, error)
	nemeses func(...string) ([]Nemesis, error)
}

func (o RunOptions) withDefaults() RunOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Nodes <= 0 {
		o.Nodes = 5
	}
	if o.Rate <= 0 {
		o.Rate = 50
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	if len(o.Nemesis) == 0 {
		o.Nemesis = []string{"all"}
	}
	if o.Workload == "" {
		o.Workload = "register"
	}
	if o.Out == "" {
		o.Out = filepath.Join("results", time.Now().Format("20060102T150405"))
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	def(&o.Time, 60*time.Second)
	def(&o.FaultInterval, 10*time.Second)
	def(&o.OpTimeout, 5*time.Second)
	def(&o.Recovery, 5*time.Second)
	def(&o.FinalTimeout, 30*time.Second)
	def(&o.CheckTimeout, 2*time.Minute)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.up == nil {
		o.up = Up
	}
	if o.nemeses == nil {
		o.nemeses = Nemeses
	}
	return o
}

// noNemesis reports whether names ask for a run without faults.
func noNemesis(names []string) bool {
	return len(names) == 1 && (names[0] == "none" || names[0] == "")
}

// Run starts a cluster, runs the workload against it while the nemesis schedule injects
// faults for o.Time, heals, lets the cluster recover, runs the final operations, stops
// the cluster, checks the history and writes the results folder (see writeResults).
// The error is for runs that could not be carried out (bad options, a cluster that did
// not start); a run that found a violation returns a Summary with Valid Invalid.
func Run(ctx context.Context, o RunOptions) (Summary, error) {
	o = o.withDefaults()
	wl, err := newWorkload(o.Workload)
	if err != nil {
		return Summary{}, err
	}
	var nems []Nemesis
	if !noNemesis(o.Nemesis) {
		if nems, err = o.nemeses(o.Nemesis...); err != nil {
			return Summary{}, fmt.Errorf("jepsen: %w", err)
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Summary{}, fmt.Errorf("jepsen: results folder: %w", err)
	}
	r := &runner{o: o, wl: wl, nemeses: nems, sum: newSummary(o)}
	return r.run(ctx)
}

// runner carries one run's state through its phases.
type runner struct {
	o       RunOptions
	wl      workload
	nemeses []Nemesis
	cluster Cluster
	env     *env
	sum     Summary
	windows []FaultWindow
}

func (r *runner) run(ctx context.Context) (Summary, error) {
	began := time.Now()
	r.o.Logger.Info("starting cluster", "nodes", r.o.Nodes)
	// Options.Dir is left empty: the cluster works in a temporary folder that Close
	// removes, and the logs are copied out before.
	c, err := r.o.up(ctx, Options{Nodes: r.o.Nodes, Binary: r.o.Binary, EtcdBin: r.o.EtcdBin, Bugs: r.o.Bugs, Logger: r.o.Logger})
	if err != nil {
		return r.sum, fmt.Errorf("jepsen: start cluster: %w", err)
	}
	r.cluster = c
	r.dropUnsupported()
	closed := false
	defer func() {
		if !closed {
			_ = c.Close()
		}
	}()
	if err := r.awaitLeader(ctx, time.Minute); err != nil {
		return r.sum, fmt.Errorf("jepsen: cluster never elected a leader: %w", err)
	}
	r.env = &env{rec: newRecorder(time.Now()), procs: new(atomic.Int64), timeout: r.o.OpTimeout, endpoints: c.Endpoints()}
	r.sum.Timings.Setup = secs(time.Since(began))

	if err := r.faultyPhase(ctx); err != nil {
		return r.sum, err
	}
	r.checkMembership()
	phase := time.Now()
	if err := r.awaitLeader(ctx, r.o.FinalTimeout); err != nil {
		r.sum.Errors = append(r.sum.Errors, "no leader after healing: "+err.Error())
	}
	sleepCtx(ctx, r.o.Recovery)
	r.sum.Timings.Recovery = secs(time.Since(phase))

	phase = time.Now()
	fctx, cancel := context.WithTimeout(ctx, r.o.FinalTimeout)
	if err := r.wl.finish(fctx, r.env); err != nil {
		r.sum.Errors = append(r.sum.Errors, "final operations: "+err.Error())
	}
	cancel()
	r.sum.Timings.Final = secs(time.Since(phase))

	r.copyLogs()
	closed = true
	if err := c.Close(); err != nil {
		r.sum.Errors = append(r.sum.Errors, "close cluster: "+err.Error())
	}
	return r.finish(began)
}

// faultyPhase runs the clients and the nemesis schedule for o.Time, then waits for
// operations in flight and heals.
func (r *runner) faultyPhase(ctx context.Context) error {
	phase := time.Now()
	rctx, stop := context.WithTimeout(ctx, r.o.Time)
	defer stop()
	if err := r.wl.open(ctx, r.env); err != nil {
		return fmt.Errorf("jepsen: open workload: %w", err)
	}
	clients, err := r.clients()
	if err != nil {
		return err
	}
	tokens := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pace(rctx, r.o.Rate, tokens)
	}()
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Operations run under ctx, not rctx: one in flight at the deadline finishes.
			for {
				select {
				case <-rctx.Done():
					return
				case <-tokens:
					r.wl.op(ctx, cl)
				}
			}
		}()
	}
	if len(r.nemeses) > 0 {
		s := &schedule{nemeses: r.nemeses, cluster: r.cluster, interval: r.o.FaultInterval, total: r.o.Time,
			rng: rand.New(rand.NewSource(r.o.Seed)), now: r.env.rec.now, log: r.o.Logger}
		r.windows = s.run(rctx)
	}
	wg.Wait()
	for _, cl := range clients {
		r.wl.closeClient(cl)
		cl.cli.Close()
	}
	r.sum.Timings.Run = secs(time.Since(phase))
	return nil
}

// clients connects one logical client per Concurrency, spread over the nodes: each
// talks to one node, as Jepsen's clients do, so a node's faults reach its clients.
func (r *runner) clients() ([]*client, error) {
	nodes := r.cluster.Nodes()
	var out []*client
	for i := range r.o.Concurrency {
		cli, err := dial([]string{r.cluster.Endpoint(nodes[i%len(nodes)])})
		if err != nil {
			for _, c := range out {
				c.cli.Close()
			}
			return nil, fmt.Errorf("jepsen: client %d: %w", i, err)
		}
		out = append(out, &client{env: r.env, cli: cli, process: r.env.newProcess(),
			rng: rand.New(rand.NewSource(r.o.Seed + int64(i) + 1))})
	}
	return out, nil
}

// pace hands out rate tokens a second until ctx ends. A token no client is free to take
// is dropped: the rate is an upper bound, as Jepsen's is with busy clients.
func pace(ctx context.Context, rate float64, tokens chan<- struct{}) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case tokens <- struct{}{}:
			default:
			}
		}
	}
}

func (r *runner) awaitLeader(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := r.cluster.Leader(lctx)
		lcancel()
		if err == nil {
			return nil
		}
		if !sleepCtx(ctx, 250*time.Millisecond) {
			return errors.Join(err, ctx.Err())
		}
	}
}

// checkMembership notes every node that healing did not bring back into the cluster (the
// member nemesis's re-add failed): the final operations then run on fewer members.
func (r *runner) checkMembership() {
	rj, ok := r.cluster.(Rejoiner)
	if !ok {
		return
	}
	for _, n := range r.cluster.Nodes() {
		if rj.Left(n) {
			r.sum.Errors = append(r.sum.Errors, fmt.Sprintf("%s is still out of the cluster after healing (member re-add failed)", n))
		}
	}
}

// copyLogs copies every node's log into the results folder.
func (r *runner) copyLogs() {
	dir := filepath.Join(r.o.Out, "logs")
	for _, n := range r.cluster.Nodes() {
		src := r.cluster.LogPath(n)
		if src == "" {
			continue
		}
		if err := copyFile(src, filepath.Join(dir, n+".log")); err != nil {
			r.sum.Errors = append(r.sum.Errors, fmt.Sprintf("copy log of %s: %v", n, err))
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// finish checks the history and writes the results.
func (r *runner) finish(began time.Time) (Summary, error) {
	events := r.env.rec.events()
	phase := time.Now()
	rep, err := r.wl.check(events, checker.Options{Timeout: r.o.CheckTimeout, Annotations: annotations(r.windows)})
	r.sum.Timings.Check = secs(time.Since(phase))
	if err != nil {
		rep = verdictReport{valid: Unknown, summary: "check failed: " + err.Error()}
		r.sum.Errors = append(r.sum.Errors, "check: "+err.Error())
	}
	r.sum.fill(events, r.windows, r.nemesisNames(), rep)
	r.sum.Timings.Total = secs(time.Since(began))
	if err := writeResults(r.o.Out, events, r.windows, rep, &r.sum); err != nil {
		return r.sum, fmt.Errorf("jepsen: write results: %w", err)
	}
	return r.sum, nil
}

// annotations shade the fault windows on porcupine's visualisation.
func annotations(ws []FaultWindow) []checker.Annotation {
	out := make([]checker.Annotation, 0, len(ws))
	for _, w := range ws {
		out = append(out, checker.Annotation{Start: w.Start, End: w.End, Label: w.Nemesis, Detail: w.Description, Tag: "faults"})
	}
	return out
}

func secs(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

func (r *runner) nemesisNames() []string {
	names := make([]string, 0, len(r.nemeses))
	for _, n := range r.nemeses {
		names = append(names, n.Name())
	}
	return names
}

// dropUnsupported removes the nemeses the cluster cannot take (clock skew on etcd, say),
// noting them in the summary.
func (r *runner) dropUnsupported() {
	var keep []Nemesis
	for _, n := range r.nemeses {
		if Supported(n, r.cluster) {
			keep = append(keep, n)
		} else {
			r.sum.SkippedNemeses = append(r.sum.SkippedNemeses, n.Name())
		}
	}
	r.nemeses = keep
}
