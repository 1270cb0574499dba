// Command orrery is Orrery's single binary: simulations, checks, pods and the real nodes.
// It stays thin: it parses flags, builds an environment and calls packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// Exit codes, as in DESIGN.md, plus one for an inconclusive check.
const (
	exitOK           = 0
	exitViolation    = 1 // a check found a safety or liveness violation
	exitUsage        = 2 // bad usage or input
	exitInconclusive = 3 // the checker ran out of time: no violation found, none ruled out
	exitRegression   = 4 // every check passed, but the same seeds cost more than the baseline's
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.Run(interspersed(app, args))
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "orrery: %v\n", err)
	return exitUsage
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:            "orrery",
		Usage:           "the CoreOS cluster stack as deterministic, simulation-tested components",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // run() maps errors to exit codes
		OnUsageError:    usageError,
		Commands: []*cli.Command{
			simCommand(),
			checkCommand(),
			versionCommand(),
			imageCommand(),
			podCommand(),
			nodeCommand(),
			clusterCommand(),
			certsCommand(),
			snapshotCommand(),
			jepsenCommand(),
			benchCommand(),
			mutateCommand(),
		},
	}
}

// usageError turns a flag parsing error into exit code 2 with the command's name.
func usageError(c *cli.Context, err error, _ bool) error {
	return cli.Exit(fmt.Sprintf("orrery %s: %v (see --help)", c.Command.FullName(), err), exitUsage)
}

// usagef reports bad input with exit code 2.
func usagef(format string, args ...any) error {
	return cli.Exit("orrery: "+fmt.Sprintf(format, args...), exitUsage)
}
