package fleet

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// MaxUnitSize bounds a unit file: fleet's units are a few hundred bytes, and the store
// keeps every body; a megabyte is a mistake, not a unit.
const MaxUnitSize = 64 << 10

// The unit types fleet schedules.
var unitTypes = []string{"service", "socket", "device", "mount", "automount", "timer", "path"}

// Name is a unit's name split into its parts: "web@1.service" has prefix "web", instance
// "1" and type "service"; a template ("web@.service") has an empty instance.
type Name struct {
	Full     string // web@1.service
	Prefix   string // web
	Instance string // 1; "" for a template or a plain unit
	Type     string // service
	templ    bool
}

// Template reports whether the name is a template's ("web@.service").
func (n Name) Template() bool { return n.templ }

// Instanced reports whether the name is an instance of a template ("web@1.service").
func (n Name) Instanced() bool { return n.Instance != "" }

// TemplateName is the template an instance comes from ("web@.service"); "" otherwise.
func (n Name) TemplateName() string {
	if !n.Instanced() {
		return ""
	}
	return n.Prefix + "@." + n.Type
}

// WithoutType is the name without its type suffix ("web@1"): systemd's %N.
func (n Name) WithoutType() string { return strings.TrimSuffix(n.Full, "."+n.Type) }

// ParseName checks a unit name as systemd and fleet do: a known type suffix, a non-empty
// prefix of the characters systemd allows, at most one "@".
func ParseName(s string) (Name, error) {
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return Name{}, fmt.Errorf("unit name %q has no type suffix (want one of .%s)", s, strings.Join(unitTypes, ", ."))
	}
	base, typ := s[:dot], s[dot+1:]
	if !slices.Contains(unitTypes, typ) {
		return Name{}, fmt.Errorf("unit name %q: unknown unit type %q (want one of %s)", s, typ, strings.Join(unitTypes, ", "))
	}
	if len(s) > 255 {
		return Name{}, fmt.Errorf("unit name %q is longer than 255 characters", s[:32]+"...")
	}
	for _, r := range base {
		if !nameChar(r) {
			return Name{}, fmt.Errorf("unit name %q: character %q is not allowed (letters, digits and :-_.\\@ are)", s, r)
		}
	}
	n := Name{Full: s, Prefix: base, Type: typ}
	if at := strings.IndexByte(base, '@'); at >= 0 {
		n.Prefix, n.Instance = base[:at], base[at+1:]
		if strings.ContainsRune(n.Instance, '@') {
			return Name{}, fmt.Errorf("unit name %q has more than one @", s)
		}
		n.templ = n.Instance == ""
	}
	if n.Prefix == "" {
		return Name{}, fmt.Errorf("unit name %q has an empty prefix", s)
	}
	return n, nil
}

func nameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":-_.\\@", r)
}

// Unit is a parsed, validated unit file.
type Unit struct {
	Name    Name
	Options []*unit.UnitOption // in file order, as go-systemd read them
	Fleet   Constraints
}

// Constraints are a unit's [X-Fleet] options, specifiers expanded.
type Constraints struct {
	MachineID string   // run only on this machine
	MachineOf []string // run on the machine that runs each of these units
	// Metadata: the machine must have, for every key, one of the listed values (values of
	// a key ORed, keys ANDed).
	Metadata  map[string][]string
	Conflicts []string // globs of unit names that must not share the machine (checked both ways)
	Global    bool     // run on every eligible machine; the engine does not place it
	Replaces  []string // units this one evicts from its machine
	// Orrery's additions: resources the unit needs against a machine's declared capacity
	// (0: none declared), and the pod image an agent runs instead of ExecStart.
	MilliCPU int64
	Memory   int64 // bytes
	Image    string
}

// Option keys of [X-Fleet]: fleet's names, the older X-Condition* spellings it still read,
// and Orrery's additions.
var fleetKeys = map[string]string{
	"MachineID": "MachineID", "X-ConditionMachineID": "MachineID", "X-ConditionMachineBootID": "MachineID",
	"MachineOf": "MachineOf", "X-ConditionMachineOf": "MachineOf",
	"MachineMetadata": "MachineMetadata", "X-ConditionMachineMetadata": "MachineMetadata",
	"Conflicts": "Conflicts", "X-Conflicts": "Conflicts",
	"Global":       "Global",
	"Replaces":     "Replaces",
	"X-Orrery-CPU": "X-Orrery-CPU", "X-Orrery-Memory": "X-Orrery-Memory", "X-Orrery-Image": "X-Orrery-Image",
}

// ErrBadUnit is wrapped by every error about a unit file's contents.
var ErrBadUnit = errors.New("bad unit file")

// ParseUnit reads the unit file named name (the unit's name, like "web@1.service") from
// body and validates it. file names the file in errors (the path the user gave).
func ParseUnit(file, name string, body []byte) (*Unit, error) {
	n, err := ParseName(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", file, ErrBadUnit, err)
	}
	if len(body) > MaxUnitSize {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than the %d a unit may have", file, ErrBadUnit, len(body), MaxUnitSize)
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w: %w", file, firstBadLine(body), ErrBadUnit, err)
	}
	if l := strayLine(body); l > 0 {
		// go-systemd drops such lines silently; systemd would ignore them with a warning.
		return nil, fmt.Errorf("%s:%d: %w: an option before the first [Section]", file, l, ErrBadUnit)
	}
	lines := optionLines(body)
	seen := map[[2]string]int{}
	for _, o := range opts {
		key := [2]string{o.Section, o.Name}
		l := lineOf(lines, key, seen[key])
		seen[key]++
		// go-systemd keeps a continuation that nothing follows as part of the value, and
		// its canonical text then reads back as a different value: refused, not stored.
		if strings.HasSuffix(o.Value, "\\") || strings.Contains(o.Value, "\n") {
			return nil, fmt.Errorf("%s:%d: %w: option %s ends in a line continuation with nothing after it", file, l, ErrBadUnit, o.Name)
		}
	}
	u := &Unit{Name: n, Options: opts}
	if err := u.readConstraints(file, body); err != nil {
		return nil, err
	}
	return u, nil
}

// firstBadLine finds the line go-systemd's error is about (it names none): the first
// line whose prefix of the file no longer parses.
func firstBadLine(body []byte) int {
	lines := bytes.SplitAfter(body, []byte("\n"))
	end := 0
	for i, l := range lines {
		end += len(l)
		if _, err := unit.DeserializeOptions(bytes.NewReader(body[:end])); err != nil {
			return i + 1
		}
	}
	return len(lines)
}

// strayLine is the first line with content before any section header, 0 if none.
func strayLine(body []byte) int {
	for i, l := range bytes.Split(body, []byte("\n")) {
		t := bytes.TrimSpace(l)
		switch {
		case len(t) == 0 || t[0] == '#' || t[0] == ';':
		case t[0] == '[':
			return 0
		default:
			return i + 1
		}
	}
	return 0
}

// optionLines maps each (section, option) to the lines it appears on, in order: where the
// k-th option of that name came from, for errors.
func optionLines(body []byte) map[[2]string][]int {
	out := map[[2]string][]int{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, MaxUnitSize+1)
	section, cont := "", false
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		wasCont := cont
		cont = strings.HasSuffix(t, "\\")
		switch {
		case wasCont || t == "" || t[0] == '#' || t[0] == ';':
		case t[0] == '[':
			section, _, _ = strings.Cut(t[1:], "]")
		default:
			if k, _, ok := strings.Cut(t, "="); ok {
				key := [2]string{section, strings.TrimSpace(k)}
				out[key] = append(out[key], line)
			}
		}
	}
	return out
}

// lineOf is the line of the k-th option named key, 0 when the scan did not see it.
func lineOf(lines map[[2]string][]int, key [2]string, k int) int {
	if ls := lines[key]; k < len(ls) {
		return ls[k]
	}
	return 0
}

func (u *Unit) readConstraints(file string, body []byte) error {
	lines := optionLines(body)
	seen := map[[2]string]int{}
	var c Constraints
	var errs []error
	global, placed := 0, map[string]int{} // lines of Global=true and of MachineID/MachineOf/Replaces
	for _, o := range u.Options {
		if o.Section != "X-Fleet" {
			continue
		}
		key := [2]string{o.Section, o.Name}
		line := lineOf(lines, key, seen[key])
		seen[key]++
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s:%d: %w: [X-Fleet] %s: %s", file, line, ErrBadUnit, o.Name, fmt.Sprintf(format, args...)))
		}
		canon, known := fleetKeys[o.Name]
		if !known {
			fail("unknown option (known: MachineID, MachineOf, MachineMetadata, Conflicts, Global, Replaces, X-Orrery-CPU, X-Orrery-Memory, X-Orrery-Image)")
			continue
		}
		v, err := Expand(strings.TrimSpace(o.Value), u.Name, nil)
		if err != nil {
			fail("%v", err)
			continue
		}
		switch canon {
		case "MachineID":
			if c.MachineID != "" && c.MachineID != v {
				fail("a second machine (%q, after %q): a unit runs on one machine", v, c.MachineID)
				continue
			}
			if v == "" {
				fail("empty machine ID")
				continue
			}
			c.MachineID, placed[o.Name] = v, line
		case "MachineOf", "Replaces":
			for _, f := range strings.Fields(v) {
				if _, err := ParseName(f); err != nil {
					fail("%v", err)
					continue
				}
				if f == u.Name.Full {
					fail("names the unit itself")
					continue
				}
				if canon == "MachineOf" {
					c.MachineOf = append(c.MachineOf, f)
				} else {
					c.Replaces = append(c.Replaces, f)
				}
			}
			placed[o.Name] = line
		case "MachineMetadata":
			for _, kv := range strings.Fields(v) {
				k, val, ok := strings.Cut(strings.Trim(kv, `"`), "=")
				if !ok || k == "" || val == "" {
					fail("%q is not key=value", kv)
					continue
				}
				if c.Metadata == nil {
					c.Metadata = map[string][]string{}
				}
				if !slices.Contains(c.Metadata[k], val) {
					c.Metadata[k] = append(c.Metadata[k], val)
				}
			}
		case "Conflicts":
			for _, g := range strings.Fields(v) {
				if _, err := path.Match(g, ""); err != nil {
					fail("bad glob %q: %v", g, err)
					continue
				}
				c.Conflicts = append(c.Conflicts, g)
			}
		case "Global":
			b, ok := parseBool(v)
			if !ok {
				fail("%q is not a boolean (true/false, yes/no, on/off, 1/0)", v)
				continue
			}
			c.Global = b
			if b {
				global = line
			}
		case "X-Orrery-CPU":
			m, err := parseCPU(v)
			if err != nil {
				fail("%v", err)
				continue
			}
			c.MilliCPU = m
		case "X-Orrery-Memory":
			b, err := parseBytes(v)
			if err != nil {
				fail("%v", err)
				continue
			}
			c.Memory = b
		case "X-Orrery-Image":
			if v == "" || strings.ContainsAny(v, " \t") {
				fail("%q is not an image name", v)
				continue
			}
			c.Image = v
		}
	}
	if c.Global {
		//det:unordered each key names its own error; sorted below
		for name, l := range placed {
			errs = append(errs, fmt.Errorf("%s:%d: %w: [X-Fleet] %s contradicts Global=true (line %d): a global unit runs on every eligible machine", file, l, ErrBadUnit, name, global))
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return errors.Join(errs...)
	}
	u.Fleet = c
	return nil
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "1", "yes", "true", "on":
		return true, true
	case "0", "no", "false", "off":
		return false, true
	}
	return false, false
}

// parseCPU reads cores ("2", "0.5") or millicores ("500m").
func parseCPU(s string) (int64, error) {
	if m, ok := strings.CutSuffix(s, "m"); ok {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a CPU amount (cores like 0.5, or millicores like 500m)", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1<<20 {
		return 0, fmt.Errorf("%q is not a CPU amount (cores like 0.5, or millicores like 500m)", s)
	}
	return max(int64(f*1000+0.5), 1), nil
}

// parseBytes reads a size as systemd's MemoryLimit does: bytes, or K, M, G, T (powers of 1024).
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	num := s
	if k := len(s) - 1; k > 0 {
		if i := strings.IndexByte("KMGT", s[k]); i >= 0 {
			mult, num = int64(1)<<(10*(i+1)), s[:k]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with K, M, G or T)", s)
	}
	return n * mult, nil
}

// Machine is one machine of the cluster as the engine and the specifiers see it.
type Machine struct {
	ID, BootID, Hostname string
	PublicIP             string
	Metadata             map[string]string // --metadata region=us-east,disk=ssd
	// Declared capacity for X-Orrery-CPU and X-Orrery-Memory; 0 declares none, and then
	// the machine takes any amount.
	MilliCPU, Memory int64
}

// Expand replaces systemd's specifiers in s: %n (full unit name), %N (without type), %p
// (prefix), %i (instance), %% (a percent sign) and, given a machine, %m, %b and %H. The
// [X-Fleet] section expands without a machine: placement cannot depend on where the
// unit lands.
func Expand(s string, n Name, m *Machine) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends with a lone %%", s)
		}
		i++
		switch c := s[i]; c {
		case 'n':
			b.WriteString(n.Full)
		case 'N':
			b.WriteString(n.WithoutType())
		case 'p':
			b.WriteString(n.Prefix)
		case 'i':
			b.WriteString(n.Instance)
		case '%':
			b.WriteByte('%')
		case 'm', 'b', 'H':
			if m == nil {
				return "", fmt.Errorf("specifier %%%c depends on the machine, which placement does not know yet", c)
			}
			b.WriteString(map[byte]string{'m': m.ID, 'b': m.BootID, 'H': m.Hostname}[c])
		default:
			return "", fmt.Errorf("unknown specifier %%%c in %q (known: %%n %%N %%p %%i %%m %%b %%H %%%%)", c, s)
		}
	}
	return b.String(), nil
}

// Bytes is the unit's canonical text: its options serialized by go-systemd.
func (u *Unit) Bytes() []byte {
	b, _ := io.ReadAll(unit.Serialize(u.Options)) // reading a bytes.Reader cannot fail
	return b
}

// Hash is the SHA-1 of Bytes, in hex: fleet's unit hash (fleetctl shows its first 7
// characters). Two files that differ only in comments or blank lines hash alike.
func (u *Unit) Hash() string {
	h := sha1.Sum(u.Bytes())
	return hex.EncodeToString(h[:])
}

// Instantiate makes the instance inst of template u (same body, new name).
func (u *Unit) Instantiate(file, inst string) (*Unit, error) {
	if !u.Name.Template() {
		return nil, fmt.Errorf("%s: %w: %s is not a template (want NAME@.TYPE)", file, ErrBadUnit, u.Name.Full)
	}
	return ParseUnit(file, u.Name.Prefix+"@"+inst+"."+u.Name.Type, u.Bytes())
}
