package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/bench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "load an etcd v3 API (Orrery or etcd) with one workload and print throughput and latency",
		ArgsUsage: "WORKLOAD (" + strings.Join(bench.Workloads, ", ") + ")",
		Description: `put: Put of a random key; get: linearizable Get; sget: serializable Get; txn: compare-and-swap
Txn on a per-client key; watch: --watchers watchers on one prefix and one writer (latency is
from the put's send to each watcher's receipt); lease: lease keep-alive round trips; fill:
writes each of --keys keys once, --txn-ops puts per Txn.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "endpoints", Value: "127.0.0.1:2379", Usage: "comma-separated client endpoints; connection i goes to endpoint i % count"},
			&cli.IntFlag{Name: "conns", Value: 1, Usage: "gRPC connections"},
			&cli.IntFlag{Name: "clients", Value: 1, Usage: "concurrent clients, spread over the connections"},
			&cli.IntFlag{Name: "keys", Value: 10000, Usage: "key space"},
			&cli.IntFlag{Name: "value-size", Value: 256, Usage: "bytes per value"},
			&cli.IntFlag{Name: "total", Usage: "requests in all (watch: puts); 0 runs for --duration"},
			&cli.DurationFlag{Name: "duration", Value: 0, Usage: "run time when --total is 0 (default 10s)"},
			&cli.IntFlag{Name: "watchers", Value: 1000, Usage: "watchers of the watch workload"},
			&cli.Float64Flag{Name: "rate", Value: 0, Usage: "puts per second of the watch writer (0: back to back)"},
			&cli.IntFlag{Name: "txn-ops", Value: 100, Usage: "puts per Txn of the fill workload"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON line instead of text"},
		},
		Action: benchRun,
	}
}

func benchRun(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("bench: want one WORKLOAD (%s)", strings.Join(bench.Workloads, ", "))
	}
	cfg := bench.Config{
		Workload:  c.Args().First(),
		Endpoints: strings.Split(c.String("endpoints"), ","),
		Conns:     c.Int("conns"),
		Clients:   c.Int("clients"),
		Keys:      c.Int("keys"),
		ValueSize: c.Int("value-size"),
		Total:     c.Int("total"),
		Duration:  c.Duration("duration"),
		Watchers:  c.Int("watchers"),
		Rate:      c.Float64("rate"),
		TxnOps:    c.Int("txn-ops"),
	}
	if cfg.Total == 0 && cfg.Duration == 0 {
		cfg.Duration = 10e9
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return cli.Exit(fmt.Sprintf("orrery bench: %v", err), 1)
	}
	if c.Bool("json") {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, string(b))
	} else {
		fmt.Fprintln(c.App.Writer, res)
	}
	if res.Ops == 0 {
		return cli.Exit("orrery bench: no request succeeded", 1)
	}
	return nil
}
