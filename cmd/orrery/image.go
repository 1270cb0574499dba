package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/orrery/orrery/host/podrt/aci"
	"github.com/orrery/orrery/host/podrt/imgstore"
	"github.com/orrery/orrery/node/pod"
)

var dataDirFlag = &cli.StringFlag{Name: "data-dir", Value: "/var/lib/orrery", Usage: "where images and pods live", EnvVars: []string{"ORRERY_DATA_DIR"}}
var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"}

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "build, import, list and remove appc images (ACIs)",
		Flags: []cli.Flag{dataDirFlag},
		Subcommands: []*cli.Command{
			{Name: "build", Usage: "make an ACI from a directory", ArgsUsage: "DIR --name NAME --exec CMD [ARG...]",
				Flags: []cli.Flag{&cli.StringFlag{Name: "name", Required: true}, &cli.StringSliceFlag{Name: "exec", Required: true, Usage: "command and arguments (repeat the flag, or give one and the rest after --)"},
					&cli.StringFlag{Name: "user", Value: "0"}, &cli.StringFlag{Name: "group", Value: "0"}, &cli.StringFlag{Name: "version"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "also write the ACI to this file"}},
				Action: imageBuild},
			{Name: "fetch", Usage: "import an ACI from a file or an http(s) URL", ArgsUsage: "FILE|URL", Flags: []cli.Flag{&cli.StringFlag{Name: "hash", Usage: "expected image ID (sha512-...)"}}, Action: imageFetch},
			{Name: "list", Usage: "list images", Flags: []cli.Flag{jsonFlag}, Action: imageList},
			{Name: "rm", Usage: "remove images", ArgsUsage: "IMAGE...", Action: imageRemove},
			{Name: "export", Usage: "write an image's ACI", ArgsUsage: "IMAGE FILE", Action: imageExport},
			{Name: "gc", Usage: "remove images no pod uses and unused for the grace period", Flags: []cli.Flag{&cli.DurationFlag{Name: "grace-period", Value: 24 * time.Hour}}, Action: imageGC},
		},
	}
}

func openStore(c *cli.Context) (*imgstore.Store, error) {
	return imgstore.Open(c.String("data-dir"))
}

func imageBuild(c *cli.Context) error {
	if c.NArg() < 1 {
		return usagef("image build: need a directory")
	}
	exec := append(c.StringSlice("exec"), c.Args().Tail()...)
	m := &pod.ImageManifest{ACKind: pod.ACKindImage, ACVersion: pod.ACVersion, Name: c.String("name"),
		Labels: []pod.Label{{Name: "os", Value: "linux"}, {Name: "arch", Value: "amd64"}},
		App:    &pod.App{Exec: exec, User: c.String("user"), Group: c.String("group")}}
	if v := c.String("version"); v != "" {
		m.Labels = append(m.Labels, pod.Label{Name: "version", Value: v})
	}
	if err := m.Validate(); err != nil {
		return usagef("image build: manifest %v", err)
	}
	tmp, err := os.CreateTemp("", "orrery-aci-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := aci.Build(c.Args().First(), m, tmp); err != nil {
		return err
	}
	if out := c.String("output"); out != "" {
		if err := copyTo(tmp, out); err != nil {
			return err
		}
	}
	return importFrom(c, tmp, "")
}

func copyTo(f *os.File, path string) error {
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = io.Copy(out, f)
	return err
}

func importFrom(c *cli.Context, f io.ReadSeeker, want pod.ImageID) error {
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	img, err := st.Import(f, want)
	if err != nil {
		return cli.Exit("orrery: "+err.Error(), exitUsage)
	}
	fmt.Fprintln(c.App.Writer, img.ID)
	return nil
}

func imageFetch(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("image fetch: need one FILE or URL")
	}
	var want pod.ImageID
	if h := c.String("hash"); h != "" {
		id, err := pod.ParseImageID(h, false)
		if err != nil {
			return usagef("image fetch: --hash: %v", err)
		}
		want = id
	}
	src := c.Args().First()
	r, err := openSource(src)
	if err != nil {
		return usagef("image fetch: %v", err)
	}
	defer r.Close()
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	img, err := st.Import(r, want)
	if err != nil {
		return cli.Exit("orrery: image fetch: "+err.Error(), exitUsage)
	}
	fmt.Fprintln(c.App.Writer, img.ID)
	return nil
}

// openSource opens a file or an http(s) URL. URLs are fetched only from loopback hosts
// until images are signed: an unverified download from elsewhere is not an import.
func openSource(src string) (io.ReadCloser, error) {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return os.Open(src)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s: only loopback URLs are fetched", src)
	}
	resp, err := http.Get(src)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", src, resp.Status)
	}
	return resp.Body, nil
}

func imageList(c *cli.Context) error {
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	imgs, err := st.List()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return json.NewEncoder(c.App.Writer).Encode(imgs)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tVERSION\tSIZE\tIMPORTED\tLAST USED")
	for _, img := range imgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", img.ID.Short(), img.Name, img.Labels["version"], img.Size,
			img.Imported.Format(time.RFC3339), img.LastUsed.Format(time.RFC3339))
	}
	return tw.Flush()
}

func imageRemove(c *cli.Context) error {
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, ref := range c.Args().Slice() {
		img, err := st.Resolve(ref)
		if err != nil {
			return cli.Exit("orrery: "+err.Error(), exitUsage)
		}
		if err := st.Remove(img.ID); err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, img.ID)
	}
	return nil
}

func imageExport(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("image export: need IMAGE and FILE")
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	img, err := st.Resolve(c.Args().First())
	if err != nil {
		return cli.Exit("orrery: "+err.Error(), exitUsage)
	}
	f, err := os.Create(c.Args().Get(1))
	if err != nil {
		return err
	}
	defer f.Close()
	return st.Export(img.ID, f)
}

func imageGC(c *cli.Context) error {
	rt, err := newRuntime(c)
	if err != nil {
		return err
	}
	used, err := rt.InUse()
	if err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	removed, err := st.GC(c.Duration("grace-period"), used)
	for _, id := range removed {
		fmt.Fprintln(c.App.Writer, id)
	}
	return err
}
