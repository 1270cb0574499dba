package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/host/daemon"
	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/etcdapi"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
)

func snapshotCommand() *cli.Command {
	return &cli.Command{
		Name:  "snapshot",
		Usage: "work with snapshots saved by etcdctl snapshot save",
		Subcommands: []*cli.Command{{
			Name:      "restore",
			Usage:     "build a new member's data dir from a snapshot (like etcdutl snapshot restore); run it for every member of the new cluster",
			ArgsUsage: "FILE",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "data-dir", Required: true, Usage: "the data dir to create (must not exist or be empty)"},
				&cli.StringFlag{Name: "name", Value: "default", Usage: "this member's name"},
				&cli.StringFlag{Name: "initial-cluster", Usage: "the new cluster: name=peerURL,... (default: NAME=http://127.0.0.1:2380)"},
			},
			Action: snapshotRestore,
		}},
	}
}

func snapshotRestore(cc *cli.Context) error {
	if cc.NArg() != 1 {
		return usagef("snapshot restore: want one FILE")
	}
	file, dir := cc.Args().First(), cc.String("data-dir")
	cluster := cc.String("initial-cluster")
	if cluster == "" {
		cluster = cc.String("name") + "=http://127.0.0.1:2380"
	}
	peers, err := daemon.ParseCluster(cluster)
	if err != nil {
		return usagef("snapshot restore: %v", err)
	}
	found := false
	var voters []c.NodeID
	var members []rsm.Member
	for _, p := range peers {
		found = found || p.Name == cc.String("name")
		voters = append(voters, c.NodeID(p.ID))
		members = append(members, rsm.Member{ID: p.ID, Name: p.Name, PeerURLs: []string{p.PeerURL()}})
	}
	if !found {
		return usagef("snapshot restore: --name %q is not in --initial-cluster", cc.String("name"))
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery snapshot restore: %v", err), 1)
	}
	state, err := etcdapi.SnapshotPayload(raw)
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery snapshot restore: %s: %v", file, err), 1)
	}
	store, err := kv.Restore(state, kv.Config{})
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery snapshot restore: %s: %v", file, err), 1)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return cli.Exit(fmt.Sprintf("orrery snapshot restore: data dir %s is not empty; refusing to overwrite it", dir), 1)
	}
	d, err := disk.Open(dir, disk.Options{})
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery snapshot restore: %v", err), 1)
	}
	defer d.Close()
	for _, rec := range rsm.BootstrapRecords(state, voters, members) {
		d.Append(rsm.BootstrapFile, rec)
	}
	if err := d.Sync(); err != nil {
		return cli.Exit(fmt.Sprintf("orrery snapshot restore: %v", err), 1)
	}
	fmt.Fprintf(cc.App.Writer, "restored revision %d into %s (member %s of %d); start it with orrery node --initial-cluster-state existing\n",
		store.Rev(), dir, cc.String("name"), len(peers))
	return nil
}
