package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
)

// TableName is the nftables table the harness keeps in every node's namespace. Each nemesis
// kind owns one base chain, so that faults of different kinds can overlap and each heals by
// flushing only its own chain; deleting the namespace deletes the table.
const TableName = "ojepsen"

// baseTable creates the table and its chains (idempotent).
const baseTable = `add table ip ojepsen
add chain ip ojepsen partition { type filter hook input priority 0; policy accept; }
add chain ip ojepsen loss { type filter hook input priority 10; policy accept; }
`

// grudge maps a node to the nodes whose traffic it drops.
type grudge map[string][]string

// grudgeFunc picks a grudge among the shuffled nodes, with a description.
type grudgeFunc func(ctx context.Context, c Cluster, nodes []string, r *rand.Rand) (string, grudge)

// partitionNemesis drops, inside each node's namespace, the packets that come from the nodes
// it holds a grudge against (Jepsen's grudges). One-way partitions drop only the peer
// connections those nodes open to it (destination port ProxyPort), so what it sends them
// still arrives: Orrery's peer connections are one-way, which makes that a true one-way cut.
type partitionNemesis struct {
	name   string
	pick   grudgeFunc
	oneway bool
}

func newPartition(name string, pick grudgeFunc, oneway bool) *partitionNemesis {
	return &partitionNemesis{name: name, pick: pick, oneway: oneway}
}

func (p *partitionNemesis) Name() string { return p.name }

func (p *partitionNemesis) Supports(c Cluster) error {
	_, err := hostsOf(c, p.name)
	return err
}

func (p *partitionNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	h, err := hostsOf(c, p.name)
	if err != nil {
		return "", err
	}
	nodes := c.Nodes()
	r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	desc, g := p.pick(ctx, c, nodes, r)
	var errs []error
	for node, from := range g {
		if len(from) == 0 {
			continue
		}
		var addrs []string
		for _, f := range from {
			addrs = append(addrs, h.Addr(f))
		}
		match := fmt.Sprintf("ip saddr { %s }", strings.Join(addrs, ", "))
		if p.oneway {
			match += fmt.Sprintf(" tcp dport %d", ProxyPort)
		}
		script := fmt.Sprintf("flush chain ip %s partition\nadd rule ip %s partition %s counter drop\n", TableName, TableName, match)
		errs = append(errs, h.NFT(ctx, node, script))
	}
	return p.name + " " + desc, errors.Join(errs...)
}

func (p *partitionNemesis) Stop(ctx context.Context, c Cluster) error {
	return flushChain(ctx, c, p.name, "partition")
}

// flushChain empties one of the harness's chains on every node, in parallel.
func flushChain(ctx context.Context, c Cluster, nemesis, chain string) error {
	h, err := hostsOf(c, nemesis)
	if err != nil {
		return err
	}
	nodes := c.Nodes()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.NFT(ctx, n, fmt.Sprintf("flush chain ip %s %s\n", TableName, chain))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// complete cuts every node of a off from every node of b, both ways.
func complete(a, b []string) grudge {
	g := grudge{}
	for _, x := range a {
		g[x] = append(g[x], b...)
	}
	for _, y := range b {
		g[y] = append(g[y], a...)
	}
	return g
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// halves splits the nodes into a minority and a majority.
func halves(_ context.Context, _ Cluster, nodes []string, _ *rand.Rand) (string, grudge) {
	a, b := nodes[:len(nodes)/2], nodes[len(nodes)/2:]
	return fmt.Sprintf("%v | %v", sorted(a), sorted(b)), complete(a, b)
}

// isolateLeader cuts the leader (a random node if there is none) off from all the others.
func isolateLeader(ctx context.Context, c Cluster, nodes []string, r *rand.Rand) (string, grudge) {
	l := leaderOr(ctx, c, r)
	var rest []string
	for _, n := range nodes {
		if n != l {
			rest = append(rest, n)
		}
	}
	return fmt.Sprintf("[%s] | %v", l, sorted(rest)), complete([]string{l}, rest)
}

// bridge cuts the nodes into two halves except one node in the middle that sees both.
func bridge(_ context.Context, _ Cluster, nodes []string, _ *rand.Rand) (string, grudge) {
	k := len(nodes) / 2
	a, mid, b := nodes[:k], nodes[k], nodes[k+1:]
	return fmt.Sprintf("%v | %s | %v", sorted(a), mid, sorted(b)), complete(a, b)
}

// majoritiesRing: every node sees a majority, and no two see the same one (Jepsen's
// majorities-ring). The nodes stand in a ring; each window of a majority's size is what
// the node in its middle sees.
func majoritiesRing(_ context.Context, _ Cluster, nodes []string, _ *rand.Rand) (string, grudge) {
	n := len(nodes)
	m := n/2 + 1
	g := grudge{}
	var desc []string
	for i := range n {
		window := map[string]bool{}
		for j := range m {
			window[nodes[(i+j)%n]] = true
		}
		center := nodes[(i+m/2)%n]
		var sees []string
		for _, x := range nodes {
			if window[x] {
				sees = append(sees, x)
			} else {
				g[center] = append(g[center], x)
			}
		}
		desc = append(desc, fmt.Sprintf("%s sees %v", center, sorted(sees)))
	}
	sort.Strings(desc)
	return strings.Join(desc, ", "), g
}

// oneway makes one node (the leader half the time) deaf to the peer connections of all the
// others, while what it sends still arrives.
func oneway(ctx context.Context, c Cluster, nodes []string, r *rand.Rand) (string, grudge) {
	deaf := nodes[0]
	if r.Intn(2) == 0 {
		deaf = leaderOr(ctx, c, r)
	}
	var rest []string
	for _, n := range nodes {
		if n != deaf {
			rest = append(rest, n)
		}
	}
	return fmt.Sprintf("%s hears nothing from %v", deaf, sorted(rest)), grudge{deaf: rest}
}
