package podrt

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/orrery/orrery/node/pod"
)

// ErrNoPod reports a pod name with no pod directory.
var ErrNoPod = errors.New("podrt: no such pod")

// Pod is the record of one pod, kept in its pod.json.
type Pod struct {
	Name      string          `json:"name"`
	State     pod.State       `json:"state"`
	Image     pod.ImageID     `json:"image"`
	ImageName string          `json:"imageName"`
	Tree      string          `json:"tree"` // the image's extracted root in the tree store
	App       pod.App         `json:"app"`  // the app as it runs, overrides applied
	Limits    pod.Limits      `json:"limits"`
	Net       pod.NetMode     `json:"net"`
	Addr      string          `json:"addr,omitempty"` // "10.88.0.2/24" for the default network
	PID       int             `json:"pid,omitempty"`  // host pid of the app (PID 1 inside)
	Created   time.Time       `json:"created"`
	Started   time.Time       `json:"started,omitzero"`
	Ended     time.Time       `json:"ended,omitzero"`
	Status    *pod.ExitStatus `json:"status,omitempty"`
	dir       string
}

// Dir is the pod's directory.
func (p *Pod) Dir() string { return p.dir }

func (rt *Runtime) podDir(name string) string { return filepath.Join(rt.cfg.DataDir, "pods", name) }

// save writes the record atomically (temp file, fsync, rename).
func (p *Pod) save() error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(p.dir, ".pod.json.tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("podrt: save %s: %w", p.Name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("podrt: save %s: %w", p.Name, err)
	}
	return os.Rename(tmp, filepath.Join(p.dir, "pod.json"))
}

// apply moves the pod through one lifecycle event and saves it.
func (p *Pod) apply(ev pod.Event) error {
	to, err := pod.Next(p.State, ev)
	if err != nil {
		return fmt.Errorf("podrt: pod %s: %w", p.Name, err)
	}
	p.State = to
	return p.save()
}

func loadPod(dir string) (*Pod, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pod.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoPod, filepath.Base(dir))
	}
	if err != nil {
		return nil, fmt.Errorf("podrt: %w", err)
	}
	var p Pod
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("podrt: %s/pod.json: %w", dir, err)
	}
	if !p.State.Valid() {
		return nil, fmt.Errorf("podrt: %s/pod.json: bad state %q", dir, p.State)
	}
	p.dir = dir
	return &p, nil
}
