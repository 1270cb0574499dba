package fleet

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hello = `[Unit]
Description=Hello %n

# comments and blank lines do not change the hash
[Service]
ExecStart=/bin/sh -c "while true; do echo hello; sleep 1; done"

[X-Fleet]
MachineMetadata=region=us-east region=us-west
MachineMetadata="disk=ssd"
Conflicts=hello@*.service
X-Orrery-CPU=500m
X-Orrery-Memory=256M
`

func TestParseUnit(t *testing.T) {
	u, err := ParseUnit("hello@1.service", "hello@1.service", []byte(hello))
	require.NoError(t, err)
	assert.Equal(t, "hello", u.Name.Prefix)
	assert.Equal(t, "1", u.Name.Instance)
	assert.Equal(t, "hello@.service", u.Name.TemplateName())
	assert.Equal(t, map[string][]string{"region": {"us-east", "us-west"}, "disk": {"ssd"}}, u.Fleet.Metadata)
	assert.Equal(t, []string{"hello@*.service"}, u.Fleet.Conflicts)
	assert.Equal(t, int64(500), u.Fleet.MilliCPU)
	assert.Equal(t, int64(256<<20), u.Fleet.Memory)
	assert.False(t, u.Fleet.Global)

	// The hash is of the serialized options, as fleet's was: comments and blank lines do
	// not count, a changed option does.
	stripped := strings.ReplaceAll(hello, "# comments and blank lines do not change the hash\n", "")
	v, err := ParseUnit("x", "hello@1.service", []byte(stripped+"\n\n"))
	require.NoError(t, err)
	assert.Equal(t, u.Hash(), v.Hash())
	assert.Len(t, u.Hash(), 40)
	w, err := ParseUnit("x", "hello@1.service", []byte(strings.Replace(hello, "sleep 1", "sleep 2", 1)))
	require.NoError(t, err)
	assert.NotEqual(t, u.Hash(), w.Hash())
}

// The hash is fleet's: the SHA-1 of go-systemd's serialization of the options (sections
// separated by a blank line), whatever the file's own spacing.
func TestHashIsOfTheSerializedOptions(t *testing.T) {
	u, err := ParseUnit("x", "hello.service", []byte("[Unit]\nDescription=Hello\n[Service]\n  ExecStart = /bin/true\n"))
	require.NoError(t, err)
	assert.Equal(t, "[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/true\n", string(u.Bytes()))
	// printf '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/true\n' | sha1sum
	assert.Equal(t, "6abe518412ef0e18d1c6d81bfce33f496bd51dde", u.Hash())
}

func TestParseName(t *testing.T) {
	for _, tc := range []struct{ name, err string }{
		{"web.service", ""}, {"web@.service", ""}, {"web@1.service", ""}, {"a:b-c_d.e.timer", ""},
		{"web", "no type suffix"}, {"web.exe", `unknown unit type "exe"`}, {".service", "empty prefix"},
		{"@1.service", "empty prefix"}, {"a@b@c.service", "more than one @"}, {"we b.service", `character ' '`},
	} {
		n, err := ParseName(tc.name)
		if tc.err == "" {
			assert.NoError(t, err, tc.name)
			assert.Equal(t, tc.name, n.Full)
			continue
		}
		assert.ErrorContains(t, err, tc.err, tc.name)
	}
	n, _ := ParseName("web@.service")
	assert.True(t, n.Template())
	assert.False(t, n.Instanced())
	assert.Equal(t, "web@", n.WithoutType())
}

// Every bad input is refused with the file, the line and the option.
func TestParseUnitRefuses(t *testing.T) {
	for _, tc := range []struct{ name, body, err string }{
		{"x.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineOff=abc\n", "u.service:4: bad unit file: [X-Fleet] MachineOff: unknown option"},
		{"x.service", "[X-Fleet]\nGlobal=true\nMachineID=abc\n", "u.service:3: bad unit file: [X-Fleet] MachineID contradicts Global=true (line 2)"},
		{"x.service", "[X-Fleet]\nMachineOf=db.service\nGlobal=yes\n", "u.service:2: bad unit file: [X-Fleet] MachineOf contradicts Global=true (line 3)"},
		{"x.service", "[X-Fleet]\nGlobal=maybe\n", `u.service:2: bad unit file: [X-Fleet] Global: "maybe" is not a boolean`},
		{"x.service", "[X-Fleet]\nMachineID=a\nMachineID=b\n", `u.service:3: bad unit file: [X-Fleet] MachineID: a second machine ("b", after "a")`},
		{"x.service", "[X-Fleet]\nMachineMetadata=region\n", `u.service:2: bad unit file: [X-Fleet] MachineMetadata: "region" is not key=value`},
		{"x.service", "[X-Fleet]\nConflicts=web[.service\n", `u.service:2: bad unit file: [X-Fleet] Conflicts: bad glob "web[.service"`},
		{"x.service", "[X-Fleet]\nMachineOf=db\n", `[X-Fleet] MachineOf: unit name "db" has no type suffix`},
		{"x.service", "[X-Fleet]\nMachineOf=x.service\n", "[X-Fleet] MachineOf: names the unit itself"},
		{"x.service", "[X-Fleet]\nConflicts=%m\n", "specifier %m depends on the machine"},
		{"x.service", "[X-Fleet]\nConflicts=%q\n", "unknown specifier %q"},
		{"x.service", "[X-Fleet]\nX-Orrery-CPU=lots\n", `"lots" is not a CPU amount`},
		{"x.service", "[X-Fleet]\nX-Orrery-Memory=12Q\n", `"12Q" is not a size`},
		{"x.service", "[Service]\nExecStart=/bin/true\n[X-Fleet\nGlobal=true\n", "u.service:3: bad unit file: unable to find end of section"},
		{"x.service", "# a comment\nExecStart=/bin/true\n[Service]\n", "u.service:2: bad unit file: an option before the first [Section]"},
		{"x.service", "[Service]\nExecStart=/bin/true \\", "u.service:2: bad unit file: option ExecStart ends in a line continuation with nothing after it"},
		{"x", "[Service]\n", `u.service: bad unit file: unit name "x" has no type suffix`},
		{"x.service", strings.Repeat("#", MaxUnitSize+1), "more than the 65536 a unit may have"},
	} {
		_, err := ParseUnit("u.service", tc.name, []byte(tc.body))
		assert.ErrorIs(t, err, ErrBadUnit, tc.body)
		assert.ErrorContains(t, err, tc.err, tc.body)
	}
}

func TestExpand(t *testing.T) {
	n, err := ParseName("web@8080.service")
	require.NoError(t, err)
	m := &Machine{ID: "abc", BootID: "b00t", Hostname: "h1"}
	got, err := Expand("%n %N %p %i %m %b %H 100%%", n, m)
	require.NoError(t, err)
	assert.Equal(t, "web@8080.service web@8080 web 8080 abc b00t h1 100%", got)
	_, err = Expand("50%", n, m)
	assert.ErrorContains(t, err, "lone %")
}

func TestInstantiate(t *testing.T) {
	tmpl, err := ParseUnit("web@.service", "web@.service", []byte("[Service]\nExecStart=/bin/web %i\n[X-Fleet]\nConflicts=%p@*.service\n"))
	require.NoError(t, err)
	inst, err := tmpl.Instantiate("web@.service", "2")
	require.NoError(t, err)
	assert.Equal(t, "web@2.service", inst.Name.Full)
	assert.Equal(t, []string{"web@*.service"}, inst.Fleet.Conflicts)
	assert.Equal(t, tmpl.Hash(), inst.Hash(), "an instance runs its template's body")
	_, err = inst.Instantiate("web@2.service", "3")
	assert.ErrorContains(t, err, "is not a template")
}
