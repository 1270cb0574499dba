package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/elle"
	"github.com/orrery/orrery/checker/history"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check a JSON Lines history file for linearizability (or, with --model append, strict serializability)",
		UsageText: "orrery check FILE --model register|kv|lock|append [--html OUT] [--timeout 1m]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Value: "register", Usage: "model: " + strings.Join(append(checker.Models(), checker.LockModel, elle.Model), ", ")},
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
	switch c.String("model") {
	case checker.LockModel:
		return checkLock(c, path, events)
	case elle.Model:
		return checkAppend(c, path, events)
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

// checkLock judges a lock history by the lock's promises (checker.CheckLock).
func checkLock(c *cli.Context, path string, events []history.Event) error {
	res, err := checker.CheckLock(events)
	if err != nil {
		return usagef("check %s: %v", path, err)
	}
	if res.Violation != "" {
		fmt.Fprintf(c.App.Writer, "violation: lock (%d acquisitions, %d fenced writes)\n%s\n", res.Acquired, res.Writes, res.Violation)
		return cli.Exit("", exitViolation)
	}
	fmt.Fprintf(c.App.Writer, "ok: the lock's promises hold (%d acquisitions, %d fenced writes)\n", res.Acquired, res.Writes)
	return nil
}

// appendReportLimit bounds the anomalies printed: a broken store's history can hold
// thousands, and the first few say what is wrong.
const appendReportLimit = 20

// checkAppend judges a list-append history with the Elle-style checker.
func checkAppend(c *cli.Context, path string, events []history.Event) error {
	if c.String("html") != "" {
		return usagef("check: --html draws porcupine's visualisation, which the append model does not use")
	}
	res, err := elle.Check(events)
	if err != nil {
		return usagef("check %s: %v", path, err)
	}
	w := c.App.Writer
	if res.StrictSerializable {
		fmt.Fprintf(w, "ok: strict serializable (%d transactions on %d keys)\n", res.Txns, res.Keys)
		return nil
	}
	verdict := "not serializable"
	if res.Serializable {
		verdict = "serializable, but not strict serializable"
	}
	fmt.Fprintf(w, "violation: %s (%d transactions on %d keys, %d anomalies)\n%s\n",
		verdict, res.Txns, res.Keys, len(res.Anomalies), res.Report(appendReportLimit))
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
