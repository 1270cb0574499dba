package jepsen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// admin posts form values to a node's fault-injection endpoint.
func admin(ctx context.Context, h Hosts, node string, form url.Values) error {
	u := h.AdminURL(node)
	if u == "" {
		return fmt.Errorf("%s: %w: no fault-injection endpoint", node, ErrUnsupported)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fault admin %s %s: %w", node, form.Encode(), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fault admin %s %s: %s: %s", node, form.Encode(), resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// between returns a uniform duration in [lo, hi), rounded to milliseconds.
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return (lo + time.Duration(r.Int63n(int64(hi-lo)))).Round(time.Millisecond)
}

// applied is a fault made on one process of a node; reverting it makes sense only while
// that process still runs (a restarted process starts clean).
type applied struct {
	node string
	gen  int
	d    time.Duration
}

// clockNemesis skews a random node's clock (which decides lease expiry) by ±0.5..5s through
// orrery's fault endpoint; Stop skews it back, unless the process restarted meanwhile.
type clockNemesis struct {
	mu   sync.Mutex
	done []applied
}

func (*clockNemesis) Name() string { return "clock" }

func (*clockNemesis) Supports(c Cluster) error {
	return orreryOnly(c, "clock", "clock skew needs the orrery fault-injection endpoint (--unsafe-fault-admin)")
}

func (n *clockNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	if err := n.Supports(c); err != nil {
		return "", err
	}
	h := c.(Hosts)
	nodes := c.Nodes()
	node := nodes[r.Intn(len(nodes))]
	d := between(r, 500*time.Millisecond, 5*time.Second)
	if r.Intn(2) == 0 {
		d = -d
	}
	gen := h.Generation(node)
	if err := admin(ctx, h, node, url.Values{"clock": {d.String()}}); err != nil {
		return "", err
	}
	n.mu.Lock()
	n.done = append(n.done, applied{node: node, gen: gen, d: d})
	n.mu.Unlock()
	return fmt.Sprintf("clock %s %+v", node, d), nil
}

func (n *clockNemesis) Stop(ctx context.Context, c Cluster) error {
	return n.revert(ctx, c, func(a applied) url.Values { return url.Values{"clock": {(-a.d).String()}} })
}

// revert undoes every applied fault whose process still runs.
func (n *clockNemesis) revert(ctx context.Context, c Cluster, form func(applied) url.Values) error {
	n.mu.Lock()
	done := n.done
	n.done = nil
	n.mu.Unlock()
	return revertAll(ctx, c, done, form)
}

func revertAll(ctx context.Context, c Cluster, done []applied, form func(applied) url.Values) error {
	h, ok := c.(Hosts)
	if !ok {
		return nil
	}
	var errs []error
	for _, a := range done {
		if h.Generation(a.node) != a.gen || !h.Running(a.node) {
			continue
		}
		errs = append(errs, admin(ctx, h, a.node, form(a)))
	}
	return errors.Join(errs...)
}

// diskNemesis stalls every fsync of a random minority by 200ms..1s; Stop ends the stall.
type diskNemesis struct {
	mu   sync.Mutex
	done []applied
}

func (*diskNemesis) Name() string { return "disk" }

func (*diskNemesis) Supports(c Cluster) error {
	return orreryOnly(c, "disk", "disk stalls need the orrery fault-injection endpoint (--unsafe-fault-admin)")
}

func (n *diskNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	if err := n.Supports(c); err != nil {
		return "", err
	}
	h := c.(Hosts)
	nodes := c.Nodes()
	r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	nodes = sorted(nodes[:1+r.Intn(max(1, (len(nodes)-1)/2))])
	d := between(r, 200*time.Millisecond, time.Second)
	var errs []error
	for _, node := range nodes {
		gen := h.Generation(node)
		if err := admin(ctx, h, node, url.Values{"stall": {d.String()}}); err != nil {
			errs = append(errs, err)
			continue
		}
		n.mu.Lock()
		n.done = append(n.done, applied{node: node, gen: gen, d: d})
		n.mu.Unlock()
	}
	return fmt.Sprintf("disk stall %v on %v", d, nodes), errors.Join(errs...)
}

func (n *diskNemesis) Stop(ctx context.Context, c Cluster) error {
	n.mu.Lock()
	done := n.done
	n.done = nil
	n.mu.Unlock()
	return revertAll(ctx, c, done, func(applied) url.Values { return url.Values{"stall": {"0s"}} })
}

// fsyncNemesis makes the next fsync of a random node fail, after which the member halts (as
// etcd does on a failed fsync). Stop restarts the node; if its process is still the one
// faulted (no fsync came, so the failure is still armed), it is killed first.
type fsyncNemesis struct {
	mu   sync.Mutex
	done []applied
}

func (*fsyncNemesis) Name() string { return "fsync" }

func (*fsyncNemesis) Supports(c Cluster) error {
	return orreryOnly(c, "fsync", "fsync failures need the orrery fault-injection endpoint (--unsafe-fault-admin)")
}

func (n *fsyncNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	if err := n.Supports(c); err != nil {
		return "", err
	}
	h := c.(Hosts)
	nodes := c.Nodes()
	node := nodes[r.Intn(len(nodes))]
	gen := h.Generation(node)
	if err := admin(ctx, h, node, url.Values{"failsync": {"1"}}); err != nil {
		return "", err
	}
	n.mu.Lock()
	n.done = append(n.done, applied{node: node, gen: gen})
	n.mu.Unlock()
	return fmt.Sprintf("fsync fails next on %s", node), nil
}

func (n *fsyncNemesis) Stop(ctx context.Context, c Cluster) error {
	n.mu.Lock()
	done := n.done
	n.done = nil
	n.mu.Unlock()
	h, _ := c.(Hosts)
	var errs []error
	for _, a := range done {
		if h != nil && h.Generation(a.node) == a.gen && h.Running(a.node) {
			errs = append(errs, c.Kill(a.node))
		}
		errs = append(errs, c.Start(a.node))
	}
	return errors.Join(errs...)
}
