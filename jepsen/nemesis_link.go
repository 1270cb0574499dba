package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/orrery/orrery/jepsen/faultproxy"
)

// lossNemesis drops P% (5..30) of the peer packets every node receives, at random, with
// nftables' numgen in the node's namespace; Stop flushes the rule.
type lossNemesis struct{}

func (*lossNemesis) Name() string { return "loss" }

func (*lossNemesis) Supports(c Cluster) error {
	_, err := hostsOf(c, "loss")
	return err
}

func (*lossNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	h, err := hostsOf(c, "loss")
	if err != nil {
		return "", err
	}
	pct := 5 + r.Intn(26)
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, h.Addr(n))
	}
	script := fmt.Sprintf("flush chain ip %s loss\nadd rule ip %s loss ip saddr { %s } numgen random mod 100 < %d counter drop\n",
		TableName, TableName, strings.Join(addrs, ", "), pct)
	var errs []error
	for _, n := range c.Nodes() {
		errs = append(errs, h.NFT(ctx, n, script))
	}
	return fmt.Sprintf("loss %d%% of peer packets on every node", pct), errors.Join(errs...)
}

func (*lossNemesis) Stop(ctx context.Context, c Cluster) error {
	return flushChain(ctx, c, "loss", "loss")
}

// linkNemesis sets the fault proxies in front of the members' peer listeners: "delay" adds
// 10..100ms plus up to 50ms jitter to every chunk (order kept); "duplicate" sends 10..40% of
// frames twice; "reorder" holds back 10..40% of frames by 5..50ms so later ones overtake
// them. It hits every node's proxy, i.e. every peer link into it. Duplication and
// reordering need Orrery's frames; etcd's peer traffic is HTTP and gets delay only.
type linkNemesis struct{ kind string }

func (l *linkNemesis) Name() string { return l.kind }

func (l *linkNemesis) Supports(c Cluster) error {
	if l.kind == "delay" {
		_, err := hostsOf(c, l.kind)
		return err
	}
	return orreryOnly(c, l.kind, "frame "+l.kind+" needs orrery's framed peer transport (etcd's peer traffic is HTTP)")
}

func (l *linkNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	if err := l.Supports(c); err != nil {
		return "", err
	}
	h := c.(Hosts)
	var f faultproxy.Faults
	var desc string
	switch l.kind {
	case "delay":
		f.Delay = between(r, 10*time.Millisecond, 100*time.Millisecond)
		f.Jitter = between(r, time.Millisecond, 50*time.Millisecond)
		desc = fmt.Sprintf("delay %v + up to %v on every peer link", f.Delay, f.Jitter)
	case "duplicate":
		f.Duplicate = float64(10+r.Intn(31)) / 100
		desc = fmt.Sprintf("duplicate %.0f%% of peer frames", 100*f.Duplicate)
	case "reorder":
		f.Reorder = float64(10+r.Intn(31)) / 100
		f.ReorderBy = between(r, 5*time.Millisecond, 50*time.Millisecond)
		desc = fmt.Sprintf("reorder %.0f%% of peer frames (held back %v)", 100*f.Reorder, f.ReorderBy)
	}
	for _, n := range c.Nodes() {
		if p := h.Proxy(n); p != nil {
			p.Set(l.merge(p.Faults(), f))
		}
	}
	return desc, nil
}

// merge sets l's own fields of cur to those of f and leaves the others' alone, so link
// nemeses of different kinds can overlap and each heals only its own.
func (l *linkNemesis) merge(cur, f faultproxy.Faults) faultproxy.Faults {
	switch l.kind {
	case "delay":
		cur.Delay, cur.Jitter = f.Delay, f.Jitter
	case "duplicate":
		cur.Duplicate = f.Duplicate
	case "reorder":
		cur.Reorder, cur.ReorderBy = f.Reorder, f.ReorderBy
	}
	return cur
}

func (l *linkNemesis) Stop(ctx context.Context, c Cluster) error {
	h, ok := c.(Hosts)
	if !ok {
		return nil
	}
	for _, n := range c.Nodes() {
		if p := h.Proxy(n); p != nil {
			p.Set(l.merge(p.Faults(), faultproxy.Faults{}))
		}
	}
	return nil
}
