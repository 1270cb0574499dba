package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/host/daemon"
	"github.com/orrery/orrery/host/member"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "run a local cluster for trying things out",
		Subcommands: []*cli.Command{{
			Name:  "up",
			Usage: "run N members on loopback in the foreground; Ctrl-C stops them",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "nodes", Value: 3, Usage: "number of members"},
				&cli.StringFlag{Name: "data-dir", Usage: "directory for the members' data dirs (default: a new temporary directory, removed on exit)"},
				&cli.IntFlag{Name: "base-port", Value: 2379, Usage: "client port of the first member; member i listens on base+10000*i (client) and that +1 (peer); 0 picks free ports"},
				&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn or error"},
				&cli.StringSliceFlag{Name: "bug", Usage: "switch on a planted bug in every member (testing only)"},
			},
			Action: clusterUp,
		}},
	}
}

func clusterUp(c *cli.Context) error {
	n := c.Int("nodes")
	if n < 1 || n > 9 {
		return usagef("cluster up: --nodes %d: want 1 to 9", n)
	}
	log, err := logger(c.String("log-level"), os.Stderr)
	if err != nil {
		return usagef("cluster up: %v", err)
	}
	bs, err := bugSet(c.StringSlice("bug"))
	if err != nil {
		return usagef("cluster up: %v", err)
	}
	root := c.String("data-dir")
	if root == "" {
		if root, err = os.MkdirTemp("", "orrery-cluster-"); err != nil {
			return err
		}
		defer os.RemoveAll(root)
	}
	clientAddrs, peerAddrs, err := clusterPorts(n, c.Int("base-port"))
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery cluster up: %v", err), 1)
	}
	var peers []member.Peer
	for i := range n {
		peers = append(peers, member.Peer{ID: uint64(i + 1), Name: "n" + strconv.Itoa(i+1), Addr: peerAddrs[i]})
	}
	var ds []*daemon.Daemon
	stopAll := func() {
		for _, d := range ds {
			d.Stop()
		}
	}
	for i := range n {
		d, err := daemon.Start(daemon.Options{
			Member: member.Config{
				ID: uint64(i + 1), Peers: peers, DataDir: filepath.Join(root, peers[i].Name),
				ClientURLs: []string{"http://" + clientAddrs[i]}, Bugs: bs,
			},
			ListenClient: []string{clientAddrs[i]}, Logger: log.With("name", peers[i].Name),
		})
		if err != nil {
			stopAll()
			return cli.Exit(fmt.Sprintf("orrery cluster up: member %s: %v", peers[i].Name, err), 1)
		}
		ds = append(ds, d)
	}
	var eps []string
	for _, d := range ds {
		eps = append(eps, d.ClientAddrs()...)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "orrery cluster: %d members, data in %s\n", n, root)
	for i, d := range ds {
		fmt.Fprintf(w, "  %s  client %s  peer %s\n", peers[i].Name, d.ClientAddrs()[0], d.M.PeerAddr())
	}
	fmt.Fprintf(w, "ENDPOINTS=%s\n", strings.Join(eps, ","))
	fmt.Fprintf(w, "try: etcdctl --endpoints=$ENDPOINTS put foo bar; press Ctrl-C to stop\n")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, n)
	for _, d := range ds {
		go func() { errc <- d.Wait(ctx) }()
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc: // a member stopped on its own: take the others down too
	}
	stopAll()
	fmt.Fprintln(w, "orrery cluster: stopped")
	if first != nil {
		return cli.Exit(fmt.Sprintf("orrery cluster up: %v", first), 1)
	}
	return nil
}

// clusterPorts picks the members' client and peer addresses on loopback.
func clusterPorts(n, base int) (client, peer []string, err error) {
	for i := range n {
		if base == 0 {
			a, err := freePort()
			if err != nil {
				return nil, nil, err
			}
			b, err := freePort()
			if err != nil {
				return nil, nil, err
			}
			client, peer = append(client, a), append(peer, b)
			continue
		}
		p := base + 10000*i
		if p+1 > 65535 {
			return nil, nil, fmt.Errorf("--base-port %d leaves no room for %d members", base, n)
		}
		client = append(client, "127.0.0.1:"+strconv.Itoa(p))
		peer = append(peer, "127.0.0.1:"+strconv.Itoa(p+1))
	}
	return client, peer, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
