package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/host/podrt"
	"github.com/orrery/orrery/node/pod"
)

func podCommand() *cli.Command {
	runFlags := []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "pod name (default: from the image)"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit, e.g. 32M (overrides the image's isolator)"},
		&cli.StringFlag{Name: "cpu", Usage: "cpu limit in cores or millicores, e.g. 0.5 or 500m"},
		&cli.StringFlag{Name: "net", Value: "default", Usage: "host, none or default (veth on the host bridge)"},
	}
	return &cli.Command{
		Name:  "pod",
		Usage: "run and manage pods (rkt-like)",
		Flags: []cli.Flag{dataDirFlag,
			&cli.StringFlag{Name: "bridge", Value: "orrery0", Usage: "host bridge of the default network"},
			&cli.StringFlag{Name: "subnet", Value: podrt.DefaultSubnet.String(), Usage: "this host's pod subnet"},
			&cli.StringFlag{Name: "cgroup-parent", Value: "orrery", Usage: "cgroup every pod's group is created under"}},
		Subcommands: []*cli.Command{
			{Name: "run", Usage: "prepare and run a pod in the foreground", ArgsUsage: "IMAGE [-- ARGS...]", Flags: runFlags, Action: podRun},
			{Name: "prepare", Usage: "prepare a pod and print its name", ArgsUsage: "IMAGE [-- ARGS...]", Flags: runFlags, Action: podPrepare},
			{Name: "run-prepared", Usage: "run a prepared pod in the foreground", ArgsUsage: "POD", Action: podRunPrepared},
			{Name: "list", Usage: "list pods", Flags: []cli.Flag{jsonFlag}, Action: podList},
			{Name: "status", Usage: "show a pod", ArgsUsage: "POD", Flags: []cli.Flag{&cli.BoolFlag{Name: "wait", Usage: "wait until it has ended"}}, Action: podStatus},
			{Name: "stop", Usage: "stop running pods", ArgsUsage: "POD...", Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Usage: "SIGKILL at once"}, &cli.DurationFlag{Name: "timeout", Value: 10 * time.Second}}, Action: podStop},
			{Name: "enter", Usage: "run a command inside a running pod", ArgsUsage: "POD [-- CMD...]", Action: podEnter},
			{Name: "gc", Usage: "remove pods that ended more than the grace period ago", Flags: []cli.Flag{&cli.DurationFlag{Name: "grace-period", Value: 30 * time.Minute}}, Action: podGC},
			{Name: "rm", Usage: "remove ended pods now", ArgsUsage: "POD...", Action: podRemove},
			{Name: "logs", Usage: "print a pod's output", ArgsUsage: "POD", Action: podLogs},
			{Name: "stage1", Hidden: true, Action: func(*cli.Context) error { podrt.Stage1Main(); return nil }},
		},
	}
}

func newRuntime(c *cli.Context) (*podrt.Runtime, error) {
	subnet, err := netip.ParsePrefix(c.String("subnet"))
	if c.IsSet("subnet") && err != nil {
		return nil, usagef("pod: --subnet: %v", err)
	}
	if err != nil {
		subnet = podrt.DefaultSubnet
	}
	return podrt.New(podrt.Config{DataDir: c.String("data-dir"), Stage1: []string{"/proc/self/exe", "pod", "stage1"},
		Bridge: c.String("bridge"), Subnet: subnet, CgroupParent: c.String("cgroup-parent")})
}

func prepareFrom(c *cli.Context) (*podrt.Runtime, *podrt.Pod, error) {
	if c.NArg() < 1 {
		return nil, nil, usagef("pod %s: need an IMAGE", c.Command.Name)
	}
	args := c.Args().Tail()
	if len(args) > 0 && args[0] == "--" { // the separator survives when flags came first
		args = args[1:]
	}
	o := podrt.Options{Name: c.String("name"), Image: c.Args().First(), Args: args}
	var err error
	if o.Net, err = pod.ParseNetMode(c.String("net")); err != nil {
		return nil, nil, usagef("pod %s: --net: %v", c.Command.Name, err)
	}
	if m := c.String("memory"); m != "" {
		if o.Limits.MemoryBytes, err = pod.ParseBytes(m); err != nil {
			return nil, nil, usagef("pod %s: --memory: %v", c.Command.Name, err)
		}
	}
	if cpu := c.String("cpu"); cpu != "" {
		if o.Limits.MilliCPU, err = pod.ParseMilliCPU(cpu); err != nil {
			return nil, nil, usagef("pod %s: --cpu: %v", c.Command.Name, err)
		}
	}
	rt, err := newRuntime(c)
	if err != nil {
		return nil, nil, err
	}
	p, err := rt.Prepare(o)
	if err != nil {
		return nil, nil, cli.Exit("orrery: pod: "+err.Error(), exitUsage)
	}
	return rt, p, nil
}

func podRun(c *cli.Context) error {
	rt, p, err := prepareFrom(c)
	if err != nil {
		return err
	}
	return runAndReport(c, rt, p.Name)
}

func podPrepare(c *cli.Context) error {
	_, p, err := prepareFrom(c)
	if err == nil {
		fmt.Fprintln(c.App.Writer, p.Name)
	}
	return err
}

func podRunPrepared(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("pod run-prepared: need one POD")
	}
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	return runAndReport(c, rt, c.Args().First())
}

// runAndReport runs the pod in the foreground and exits with the app's exit code.
func runAndReport(c *cli.Context, rt *podrt.Runtime, name string) error {
	p, err := rt.Run(name, c.App.Writer)
	if err != nil {
		return err
	}
	if p.Status != nil && p.Status.OOMKilled {
		fmt.Fprintf(c.App.ErrWriter, "orrery: pod %s was killed by the OOM killer\n", name)
	}
	if p.Status != nil && p.Status.Code != 0 {
		return cli.Exit("", max(1, min(p.Status.Code, 255)))
	}
	return nil
}

func podList(c *cli.Context) error {
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	pods, err := rt.List()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return json.NewEncoder(c.App.Writer).Encode(pods)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tIMAGE\tSTATE\tNET\tADDRESS\tSTATUS")
	for _, p := range pods {
		status := ""
		if p.Status != nil {
			status = p.Status.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.ImageName, p.State, p.Net, p.Addr, status)
	}
	return tw.Flush()
}

func podStatus(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("pod status: need one POD")
	}
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	get := rt.Get
	if c.Bool("wait") {
		get = rt.Wait
	}
	p, err := get(c.Args().First())
	if errors.Is(err, podrt.ErrNoPod) {
		return cli.Exit("orrery: "+err.Error(), exitUsage)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

func podStop(c *cli.Context) error {
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	for _, name := range c.Args().Slice() {
		p, err := rt.Stop(name, c.Bool("force"), c.Duration("timeout"))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s\t%s\n", p.Name, p.State)
	}
	return nil
}

func podEnter(c *cli.Context) error {
	if c.NArg() < 1 {
		return usagef("pod enter: need a POD")
	}
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	cmd, err := rt.EnterCommand(c.Args().First(), c.Args().Tail())
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
	if err := cmd.Run(); err != nil {
		return cli.Exit(fmt.Sprintf("orrery: pod enter: %v", err), 1)
	}
	return nil
}

func podGC(c *cli.Context) error {
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	removed, err := rt.GC(c.Duration("grace-period"))
	for _, name := range removed {
		fmt.Fprintln(c.App.Writer, name)
	}
	return err
}

func podRemove(c *cli.Context) error {
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	for _, name := range c.Args().Slice() {
		if err := rt.Remove(name); err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, name)
	}
	return nil
}

func podLogs(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("pod logs: need one POD")
	}
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	p, err := rt.Get(c.Args().First())
	if err != nil {
		return cli.Exit("orrery: "+err.Error(), exitUsage)
	}
	data, err := os.ReadFile(p.Dir() + "/log")
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	_, err = c.App.Writer.Write(data)
	return err
}
