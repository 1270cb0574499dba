package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check a JSON Lines history file for linearizability",
		UsageText: "orrery check FILE --model register|kv [--html OUT] [--timeout 1m]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Value: "register", Usage: "model: " + strings.Join(checker.Models(), ", ")},
			&cli.StringFlag{Name: "html", Usage: "write porcupine's visualisation of the history here"},
			&cli.DurationFlag{Name: "timeout", Value: time.Minute, Usage: "give up (verdict unknown) after this long"},
		},
		Action: checkAction,
	}
}

func checkAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("check: want exactly one history FILE, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	f, err := os.Open(path)
	if err != nil {
		return usagef("check: %v", err)
	}
	events, err := history.Read(f)
	f.Close()
	if err != nil {
		return usagef("check %s: %v", path, err)
	}
	res, err := checker.Check(c.String("model"), events, checker.Options{Timeout: c.Duration("timeout")})
	if err != nil {
		return usagef("check %s: %v", path, err)
	}
	if out := c.String("html"); out != "" {
		if err := writeHTML(out, res); err != nil {
			return usagef("check: %v", err)
		}
	}
	w := c.App.Writer
	switch res.Verdict {
	case checker.Linearizable:
		fmt.Fprintf(w, "ok: linearizable (%d operations on %d keys, model %s)\n", res.Ops, res.Keys, res.Model)
		return nil
	case checker.Unknown:
		fmt.Fprintf(w, "unknown: the checker gave up after %v (%d operations on %d keys)\n", c.Duration("timeout"), res.Ops, res.Keys)
		return cli.Exit("", exitInconclusive)
	}
	fmt.Fprintf(w, "violation: not linearizable (model %s)\n%s\n", res.Model, res.Violation)
	return cli.Exit("", exitViolation)
}

func writeHTML(path string, res checker.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteHTML(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
