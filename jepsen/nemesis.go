package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"time"
)

// ErrUnsupported is wrapped by Nemesis.Start when the cluster cannot take that fault, e.g.
// clock skew or disk stalls on etcd, which has no fault-injection endpoint.
var ErrUnsupported = errors.New("jepsen: nemesis not supported by this cluster")

// Supporter is implemented by nemeses that work only on some clusters.
type Supporter interface {
	// Supports returns nil if Start can work on c, else an error wrapping ErrUnsupported.
	Supports(c Cluster) error
}

// Supported reports whether n can attack c; a caller running Nemeses("all") against etcd
// skips the nemeses for which it is false.
func Supported(n Nemesis, c Cluster) bool {
	s, ok := n.(Supporter)
	return !ok || s.Supports(c) == nil
}

// nemesisKinds are every nemesis, in the order "all" lists them.
var nemesisKinds = []func() Nemesis{
	func() Nemesis { return newPartition("partition-halves", halves, false) },
	func() Nemesis { return newPartition("partition-leader", isolateLeader, false) },
	func() Nemesis { return newPartition("partition-ring", majoritiesRing, false) },
	func() Nemesis { return newPartition("partition-bridge", bridge, false) },
	func() Nemesis { return newPartition("partition-oneway", oneway, true) },
	func() Nemesis { return &killNemesis{} },
	func() Nemesis { return &pauseNemesis{} },
	func() Nemesis { return &clockNemesis{} },
	func() Nemesis { return &lossNemesis{} },
	func() Nemesis { return &diskNemesis{} },
	func() Nemesis { return &fsyncNemesis{} },
	func() Nemesis { return &linkNemesis{kind: "delay"} },
	func() Nemesis { return &linkNemesis{kind: "duplicate"} },
	func() Nemesis { return &linkNemesis{kind: "reorder"} },
	func() Nemesis { return &memberNemesis{} },
}

// nemesisGroups are the names Jepsen users write for a family of faults (jepsen.nemesis.
// combined's :partition and :packet), each standing for every kind of the family:
// partition for every nemesis named partition-*, packet for the link faults.
var nemesisGroups = map[string][]string{
	"partition": partitionNemeses(),
	"packet":    {"loss", "delay", "duplicate", "reorder"},
}

func partitionNemeses() []string {
	var out []string
	for _, n := range NemesisNames() {
		if strings.HasPrefix(n, "partition-") {
			out = append(out, n)
		}
	}
	return out
}

// NemesisNames lists every nemesis name (what "all" expands to).
func NemesisNames() []string {
	var out []string
	for _, k := range nemesisKinds {
		out = append(out, k().Name())
	}
	return out
}

// Nemeses returns fresh nemeses by name; "all" is every kind. Names may also be given
// comma-separated in one string. Each kind appears once.
func Nemeses(names ...string) ([]Nemesis, error) {
	byName := map[string]func() Nemesis{}
	for _, k := range nemesisKinds {
		byName[k().Name()] = k
	}
	var out []Nemesis
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, byName[name]())
		}
	}
	for _, arg := range names {
		for _, name := range strings.Split(arg, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "" || name == "none":
			case name == "all":
				for _, n := range NemesisNames() {
					add(n)
				}
			case byName[name] != nil:
				add(name)
			case nemesisGroups[name] != nil:
				for _, n := range nemesisGroups[name] {
					add(n)
				}
			default:
				return nil, fmt.Errorf("jepsen: unknown nemesis %q (known: all, partition, packet, %s)", name, strings.Join(NemesisNames(), ", "))
			}
		}
	}
	return out, nil
}

// hostsOf gives the nemeses that need them the harness's hosts.
func hostsOf(c Cluster, nemesis string) (Hosts, error) {
	h, ok := c.(Hosts)
	if !ok {
		return nil, fmt.Errorf("%s: %w: not a cluster from jepsen.Up (%T)", nemesis, ErrUnsupported, c)
	}
	return h, nil
}

// orreryOnly is the Supports of nemeses that need orrery's fault-injection endpoint or framing.
func orreryOnly(c Cluster, nemesis, why string) error {
	h, err := hostsOf(c, nemesis)
	if err != nil {
		return err
	}
	if h.Etcd() {
		return fmt.Errorf("%s: %w: %s", nemesis, ErrUnsupported, why)
	}
	return nil
}

// leaderOr returns the current leader, or a random node when there is none.
func leaderOr(ctx context.Context, c Cluster, r *rand.Rand) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if l, err := c.Leader(ctx); err == nil {
		return l
	}
	nodes := c.Nodes()
	return nodes[r.Intn(len(nodes))]
}

// targets picks the nodes a kill or pause hits: one, the leader, a minority, a majority
// or all. The mode is part of the description.
func targets(ctx context.Context, c Cluster, r *rand.Rand) (string, []string) {
	nodes := c.Nodes()
	r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	n := len(nodes)
	var mode string
	var out []string
	switch r.Intn(5) {
	case 0:
		mode, out = "one", nodes[:1]
	case 1:
		mode, out = "leader", []string{leaderOr(ctx, c, r)}
	case 2:
		mode, out = "minority", nodes[:max(1, (n-1)/2)]
	case 3:
		mode, out = "majority", nodes[:n/2+1]
	default:
		mode, out = "all", nodes
	}
	sort.Strings(out)
	return mode, out
}
