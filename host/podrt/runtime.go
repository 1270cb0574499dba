package podrt

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/orrery/orrery/host/podrt/imgstore"
	"github.com/orrery/orrery/node/pod"
)

// Config is how a host runs pods.
type Config struct {
	DataDir string
	// Stage1 is the command that re-executes this binary as a pod's stage1 (the runtime
	// adds the ORRERY_POD_STAGE1 variable); for the orrery binary it is
	// {"/proc/self/exe", "pod", "stage1"}.
	Stage1 []string
	// CgroupParent is the cgroup every pod's group is created under ("orrery").
	CgroupParent string
	// Bridge and Subnet are the default network: pods get addresses from Subnet on a
	// veth attached to Bridge, whose address is Subnet's first.
	Bridge string
	Subnet netip.Prefix
}

// DefaultSubnet is the pod subnet of a host unless configured otherwise.
var DefaultSubnet = netip.MustParsePrefix("10.88.0.0/16")

// Runtime runs pods on this host.
type Runtime struct {
	cfg Config
	cg  cgroups
}

// New checks the configuration and detects the cgroup layout.
func New(cfg Config) (*Runtime, error) {
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = "orrery"
	}
	if cfg.Bridge == "" {
		cfg.Bridge = "orrery0"
	}
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = DefaultSubnet
	}
	if len(cfg.Stage1) == 0 {
		return nil, errors.New("podrt: no stage1 command configured")
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "pods"), 0o755); err != nil {
		return nil, fmt.Errorf("podrt: %w", err)
	}
	cg, err := detectCgroups()
	if err != nil {
		return nil, err
	}
	return &Runtime{cfg: cfg, cg: cg}, nil
}

// podName is what a pod name may look like: it becomes a hostname and a cgroup name.
var podName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Options say how to prepare a pod.
type Options struct {
	Name   string      // "" picks one from the image name and the time
	Image  string      // image reference: ID, abbreviated ID, name or name:version
	Args   []string    // replace the app's arguments (exec[1:])
	Limits pod.Limits  // override the image's isolators
	Net    pod.NetMode // "" is the default network
}

// Get returns a pod's record in its true state (see doc.go).
func (rt *Runtime) Get(name string) (*Pod, error) {
	p, err := loadPod(rt.podDir(name))
	if err != nil {
		return nil, err
	}
	if p.State == pod.Running && !held(p.dir) {
		// Its supervisor died without recording the end; the pod died with it (stage1
		// runs with a parent-death signal), so record what we know.
		p.Status = &pod.ExitStatus{Code: -1, Reason: "supervisor died"}
		p.Ended = time.Now().UTC()
		if err := p.apply(pod.EvExit); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// List returns every pod, by name.
func (rt *Runtime) List() ([]*Pod, error) {
	entries, err := os.ReadDir(filepath.Join(rt.cfg.DataDir, "pods"))
	if err != nil {
		return nil, fmt.Errorf("podrt: %w", err)
	}
	var out []*Pod
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p, err := rt.Get(e.Name())
		if errors.Is(err, ErrNoPod) {
			continue // a directory whose record was never written: gc removes it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Pod) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// InUse returns the images of every pod, so image gc keeps them.
func (rt *Runtime) InUse() (map[pod.ImageID]bool, error) {
	pods, err := rt.List()
	if err != nil {
		return nil, err
	}
	used := map[pod.ImageID]bool{}
	for _, p := range pods {
		used[p.Image] = true
	}
	return used, nil
}

// store opens the image store; callers close it.
func (rt *Runtime) store() (*imgstore.Store, error) { return imgstore.Open(rt.cfg.DataDir) }
