package pod

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// ACKindImage is the acKind of an image manifest.
const (
	ACKindImage = "ImageManifest"
	ACKindPod   = "PodManifest"
	// ACVersion is the appc spec version Orrery writes.
	ACVersion = "0.8.11"
)

// ImageManifest is the "manifest" file of an ACI.
type ImageManifest struct {
	ACKind       string       `json:"acKind"`
	ACVersion    string       `json:"acVersion"`
	Name         string       `json:"name"`
	Labels       []Label      `json:"labels,omitempty"`
	App          *App         `json:"app,omitempty"`
	Dependencies []Dependency `json:"dependencies,omitempty"`
	Annotations  []Label      `json:"annotations,omitempty"`
}

// Label is a name/value pair (labels, annotations).
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// App is what runs when the image is used in a pod.
type App struct {
	Exec             []string     `json:"exec"`
	User             string       `json:"user"`
	Group            string       `json:"group"`
	WorkingDirectory string       `json:"workingDirectory,omitempty"`
	Environment      []EnvVar     `json:"environment,omitempty"`
	MountPoints      []MountPoint `json:"mountPoints,omitempty"`
	Ports            []Port       `json:"ports,omitempty"`
	Isolators        []Isolator   `json:"isolators,omitempty"`
}

// EnvVar is one environment variable of an app.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// MountPoint is a place in the app's root where the pod may mount a volume.
type MountPoint struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// Port is a port the app listens on.
type Port struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Port     int    `json:"port"`
}

// Dependency names an image this one is layered on. Orrery does not resolve dependencies
// yet; a manifest that has them is refused at import, not silently run without them.
type Dependency struct {
	ImageName string  `json:"imageName"`
	ImageID   ImageID `json:"imageID,omitempty"`
	Labels    []Label `json:"labels,omitempty"`
}

// Label returns the value of label name and whether it is set.
func (m *ImageManifest) Label(name string) (string, bool) {
	for _, l := range m.Labels {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// ParseImageManifest decodes and validates an image manifest.
// Unknown fields are ignored: other appc tools write fields (eventHandlers, pathWhitelist)
// Orrery does not use, and their images should still import.
func ParseImageManifest(data []byte) (*ImageManifest, error) {
	var m ImageManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("pod: image manifest: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("pod: image manifest: trailing data after the JSON object")
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("pod: image manifest: %w", err)
	}
	return &m, nil
}

// Marshal encodes the manifest as indented JSON after validating it.
func (m *ImageManifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("pod: image manifest: %w", err)
	}
	return json.MarshalIndent(m, "", "  ")
}

// Validate reports the first field that breaks the appc rules Orrery relies on.
func (m *ImageManifest) Validate() error {
	if m.ACKind != ACKindImage {
		return fieldErr("acKind", "must be %q, is %q", ACKindImage, m.ACKind)
	}
	if err := checkVersion(m.ACVersion); err != nil {
		return err
	}
	if err := checkIdentifier("name", m.Name); err != nil {
		return err
	}
	if err := checkLabels("labels", m.Labels); err != nil {
		return err
	}
	if err := checkLabels("annotations", m.Annotations); err != nil {
		return err
	}
	if len(m.Dependencies) > 0 {
		return fieldErr("dependencies", "image dependencies are not supported; build a flat image")
	}
	if m.App == nil {
		return fieldErr("app", "required: an image without an app cannot run in a pod")
	}
	return m.App.Validate("app")
}

func checkVersion(v string) error {
	if v == "" {
		return fieldErr("acVersion", "required")
	}
	if !strings.HasPrefix(v, "0.") && !strings.HasPrefix(v, "1.") {
		return fieldErr("acVersion", "unsupported version %q", v)
	}
	return nil
}

// knownLabels are the labels appc gives a meaning to, with the values Orrery can run.
var knownLabels = map[string][]string{
	"os":   {"linux"},
	"arch": {"amd64", "arm64", "i386", "aarch64", "armv7l", "armv7b", "ppc64le", "s390x", "riscv64"},
}

func checkLabels(field string, ls []Label) error {
	seen := map[string]bool{}
	for i, l := range ls {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := checkIdentifier(f+".name", l.Name); err != nil {
			return err
		}
		if seen[l.Name] {
			return fieldErr(f+".name", "duplicate %q", l.Name)
		}
		seen[l.Name] = true
		if ok := knownLabels[l.Name]; field == "labels" && ok != nil && !contains(ok, l.Value) {
			return fieldErr(f+".value", "%s %q is not one of %s", l.Name, l.Value, strings.Join(ok, ", "))
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Validate checks an app; field is its JSON path, for error messages.
func (a *App) Validate(field string) error {
	if len(a.Exec) == 0 || a.Exec[0] == "" {
		return fieldErr(field+".exec", "required: the command the app runs")
	}
	if !path.IsAbs(a.Exec[0]) {
		return fieldErr(field+".exec", "%q must be an absolute path", a.Exec[0])
	}
	if a.User == "" {
		return fieldErr(field+".user", "required (a name from the image's /etc/passwd or a number)")
	}
	if a.Group == "" {
		return fieldErr(field+".group", "required (a name from the image's /etc/group or a number)")
	}
	if a.WorkingDirectory != "" && !path.IsAbs(a.WorkingDirectory) {
		return fieldErr(field+".workingDirectory", "%q must be an absolute path", a.WorkingDirectory)
	}
	if err := checkEnv(field+".environment", a.Environment); err != nil {
		return err
	}
	if err := checkMountPoints(field+".mountPoints", a.MountPoints); err != nil {
		return err
	}
	if err := checkPorts(field+".ports", a.Ports); err != nil {
		return err
	}
	return checkIsolators(field+".isolators", a.Isolators)
}

func checkEnv(field string, env []EnvVar) error {
	seen := map[string]bool{}
	for i, e := range env {
		f := fmt.Sprintf("%s[%d].name", field, i)
		if e.Name == "" || strings.ContainsAny(e.Name, "=\x00") {
			return fieldErr(f, "%q is not a valid variable name", e.Name)
		}
		if strings.ContainsRune(e.Value, 0) {
			return fieldErr(fmt.Sprintf("%s[%d].value", field, i), "contains a NUL byte")
		}
		if seen[e.Name] {
			return fieldErr(f, "duplicate %q", e.Name)
		}
		seen[e.Name] = true
	}
	return nil
}

func checkMountPoints(field string, mps []MountPoint) error {
	for i, mp := range mps {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := checkName(f+".name", mp.Name); err != nil {
			return err
		}
		if !path.IsAbs(mp.Path) {
			return fieldErr(f+".path", "%q must be an absolute path", mp.Path)
		}
	}
	return nil
}

func checkPorts(field string, ps []Port) error {
	for i, p := range ps {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := checkName(f+".name", p.Name); err != nil {
			return err
		}
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			return fieldErr(f+".protocol", "%q is not tcp or udp", p.Protocol)
		}
		if p.Port < 1 || p.Port > 65535 {
			return fieldErr(f+".port", "%d is not in 1-65535", p.Port)
		}
	}
	return nil
}
