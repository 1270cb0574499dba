package pod

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
)

// PodManifest says what runs in a pod: one or more apps, each from an image, sharing the
// pod's pid, net, ipc and uts namespaces, each with its own root.
type PodManifest struct {
	ACKind      string       `json:"acKind"`
	ACVersion   string       `json:"acVersion"`
	Apps        []RuntimeApp `json:"apps"`
	Isolators   []Isolator   `json:"isolators,omitempty"`
	Annotations []Label      `json:"annotations,omitempty"`
}

// RuntimeApp is one app of a pod: the image it comes from and what the pod overrides.
type RuntimeApp struct {
	Name  string  `json:"name"`
	Image ImageID `json:"image"`
	// App, when set, replaces the image's app (exec, environment, isolators...).
	App *App `json:"app,omitempty"`
}

// ParsePodManifest decodes and validates a pod manifest.
func ParsePodManifest(data []byte) (*PodManifest, error) {
	var m PodManifest
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return nil, fmt.Errorf("pod: pod manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("pod: pod manifest: %w", err)
	}
	return &m, nil
}

// Validate reports the first bad field of a pod manifest.
func (m *PodManifest) Validate() error {
	if m.ACKind != ACKindPod {
		return fieldErr("acKind", "must be %q, is %q", ACKindPod, m.ACKind)
	}
	if err := checkVersion(m.ACVersion); err != nil {
		return err
	}
	if len(m.Apps) == 0 {
		return fieldErr("apps", "a pod needs at least one app")
	}
	seen := map[string]bool{}
	for i, a := range m.Apps {
		f := fmt.Sprintf("apps[%d]", i)
		if err := checkName(f+".name", a.Name); err != nil {
			return err
		}
		if seen[a.Name] {
			return fieldErr(f+".name", "duplicate app %q", a.Name)
		}
		seen[a.Name] = true
		if _, err := ParseImageID(string(a.Image), false); err != nil {
			return fieldErr(f+".image", "%v", err)
		}
		if a.App != nil {
			if err := a.App.Validate(f + ".app"); err != nil {
				return err
			}
		}
	}
	if err := checkLabels("annotations", m.Annotations); err != nil {
		return err
	}
	return checkIsolators("isolators", m.Isolators)
}

// Marshal validates and encodes the pod manifest.
func (m *PodManifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("pod: pod manifest: %w", err)
	}
	return json.MarshalIndent(m, "", "  ")
}

// NetMode is how a pod is networked.
type NetMode string

// The network modes: the host's own stack, loopback only, or a veth on the host bridge.
const (
	NetHost    NetMode = "host"
	NetNone    NetMode = "none"
	NetDefault NetMode = "default"
)

// ParseNetMode validates a --net value.
func ParseNetMode(s string) (NetMode, error) {
	switch m := NetMode(s); m {
	case NetHost, NetNone, NetDefault:
		return m, nil
	case "":
		return NetDefault, nil
	}
	return "", fmt.Errorf("pod: --net %q is not host, none or default", s)
}

// NthAddr returns the n-th host address of prefix (n=1 is the first after the network
// address), or false when the prefix has no such host address.
func NthAddr(prefix netip.Prefix, n int) (netip.Addr, bool) {
	if !prefix.Addr().Is4() || n < 1 {
		return netip.Addr{}, false
	}
	base := prefix.Masked().Addr().As4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	size := uint64(1) << (32 - prefix.Bits())
	if uint64(n) >= size-1 {
		return netip.Addr{}, false
	}
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}
