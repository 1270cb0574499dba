package pod

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodManifest = `{
  "acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/app",
  "labels": [{"name": "version", "value": "1.0"}, {"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
  "app": {
    "exec": ["/bin/app", "--quiet"], "user": "0", "group": "0", "workingDirectory": "/srv",
    "environment": [{"name": "MODE", "value": "test"}],
    "mountPoints": [{"name": "data", "path": "/var/data"}],
    "ports": [{"name": "http", "protocol": "tcp", "port": 8080}],
    "isolators": [{"name": "resource/memory", "value": {"limit": "64M"}}, {"name": "resource/cpu", "value": {"limit": "500m"}}]
  }
}`

func TestParseGoodManifest(t *testing.T) {
	m, err := ParseImageManifest([]byte(goodManifest))
	require.NoError(t, err)
	assert.Equal(t, "example.com/app", m.Name)
	assert.Equal(t, []string{"/bin/app", "--quiet"}, m.App.Exec)
	v, ok := m.Label("version")
	assert.True(t, ok)
	assert.Equal(t, "1.0", v)
	l, err := LimitsOf("app.isolators", m.App.Isolators)
	require.NoError(t, err)
	assert.Equal(t, Limits{MemoryBytes: 64 << 20, MilliCPU: 500}, l)

	out, err := m.Marshal()
	require.NoError(t, err)
	again, err := ParseImageManifest(out)
	require.NoError(t, err)
	out2, err := again.Marshal()
	require.NoError(t, err)
	assert.JSONEq(t, string(out), string(out2))
}

// TestManifestErrorsNameTheField edits the good manifest one field at a time.
func TestManifestErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		field string
	}{
		{"missing exec", func(m map[string]any) { delete(app(m), "exec") }, "app.exec: required"},
		{"empty exec", func(m map[string]any) { app(m)["exec"] = []string{} }, "app.exec: required"},
		{"relative exec", func(m map[string]any) { app(m)["exec"] = []string{"bin/app"} }, "app.exec: \"bin/app\" must be an absolute path"},
		{"no group", func(m map[string]any) { delete(app(m), "group") }, "app.group: required"},
		{"no user", func(m map[string]any) { delete(app(m), "user") }, "app.user: required"},
		{"bad kind", func(m map[string]any) { m["acKind"] = "PodManifest" }, "acKind: must be"},
		{"no version", func(m map[string]any) { delete(m, "acVersion") }, "acVersion: required"},
		{"bad name", func(m map[string]any) { m["name"] = "Example.com" }, "name: \"Example.com\" is not an AC identifier"},
		{"bad os", func(m map[string]any) { m["labels"] = []map[string]string{{"name": "os", "value": "plan9"}} }, "labels[0].value: os \"plan9\""},
		{"dup label", func(m map[string]any) {
			m["labels"] = []map[string]string{{"name": "version", "value": "1"}, {"name": "version", "value": "2"}}
		}, "labels[1].name: duplicate"},
		{"no app", func(m map[string]any) { delete(m, "app") }, "app: required"},
		{"bad workdir", func(m map[string]any) { app(m)["workingDirectory"] = "srv" }, "app.workingDirectory"},
		{"bad env", func(m map[string]any) { app(m)["environment"] = []map[string]string{{"name": "A=B"}} }, "app.environment[0].name"},
		{"bad port", func(m map[string]any) {
			app(m)["ports"] = []map[string]any{{"name": "http", "protocol": "tcp", "port": 70000}}
		}, "app.ports[0].port: 70000"},
		{"bad protocol", func(m map[string]any) {
			app(m)["ports"] = []map[string]any{{"name": "http", "protocol": "sctp", "port": 80}}
		}, "app.ports[0].protocol"},
		{"bad mount", func(m map[string]any) { app(m)["mountPoints"] = []map[string]any{{"name": "Data", "path": "/x"}} }, "app.mountPoints[0].name"},
		{"bad memory", func(m map[string]any) {
			app(m)["isolators"] = []map[string]any{{"name": "resource/memory", "value": map[string]string{"limit": "lots"}}}
		}, "app.isolators[0].value.limit"},
		{"unknown isolator", func(m map[string]any) {
			app(m)["isolators"] = []map[string]any{{"name": "os/linux/seccomp-retain-set", "value": map[string]any{}}}
		}, "app.isolators[0].name: isolator \"os/linux/seccomp-retain-set\" is not supported"},
		{"dependencies", func(m map[string]any) { m["dependencies"] = []map[string]string{{"imageName": "base"}} }, "dependencies:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(goodManifest), &m))
			c.edit(m)
			data, err := json.Marshal(m)
			require.NoError(t, err)
			_, err = ParseImageManifest(data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.field)
			var fe *FieldError
			assert.True(t, errors.As(err, &fe), "want a FieldError, got %T", err)
		})
	}
}

func app(m map[string]any) map[string]any { return m["app"].(map[string]any) }

func TestParseManifestRejectsJunk(t *testing.T) {
	for _, in := range []string{"", "{", "[]", `{"acKind": 3}`, goodManifest + " {}"} {
		_, err := ParseImageManifest([]byte(in))
		assert.Error(t, err, "input %q", in)
	}
}

func TestImageID(t *testing.T) {
	full := "sha512-" + strings.Repeat("ab", 64)
	id, err := ParseImageID(full, false)
	require.NoError(t, err)
	assert.True(t, id.Full())
	assert.Equal(t, "sha512-abababababab", id.Short())
	for _, bad := range []string{"sha256-" + strings.Repeat("a", 64), "sha512-" + strings.Repeat("A", 128), "sha512-abc", full + "0"} {
		_, err := ParseImageID(bad, false)
		assert.ErrorIs(t, err, ErrBadImageID, bad)
	}
	_, err = ParseImageID("sha512-abababababab", true)
	assert.NoError(t, err)
}

func TestQuantities(t *testing.T) {
	for in, want := range map[string]int64{"32M": 32 << 20, "256Mi": 256 << 20, "1G": 1 << 30, "4096": 4096, "2k": 2000} {
		got, err := ParseBytes(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for in, want := range map[string]int64{"500m": 500, "1": 1000, "0.25": 250, "2.5": 2500} {
		got, err := ParseMilliCPU(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "-1M", "M", "1.5G", "0"} {
		_, err := ParseBytes(bad)
		assert.Error(t, err, bad)
	}
	for _, bad := range []string{"", "-1", "0m", "NaN", "abc", "0.0001"} {
		_, err := ParseMilliCPU(bad)
		assert.Error(t, err, bad)
	}
}

func TestPodManifest(t *testing.T) {
	id := ImageID("sha512-" + strings.Repeat("0", 128))
	m := &PodManifest{ACKind: ACKindPod, ACVersion: ACVersion, Apps: []RuntimeApp{{Name: "web", Image: id}},
		Isolators: []Isolator{MemoryIsolator("32M")}}
	data, err := m.Marshal()
	require.NoError(t, err)
	back, err := ParsePodManifest(data)
	require.NoError(t, err)
	assert.Equal(t, m.Apps, back.Apps)

	m.Apps = append(m.Apps, RuntimeApp{Name: "web", Image: id})
	assert.ErrorContains(t, m.Validate(), "apps[1].name: duplicate app \"web\"")
	m.Apps = []RuntimeApp{{Name: "web", Image: "sha512-1"}}
	assert.ErrorContains(t, m.Validate(), "apps[0].image")
	m.Apps = nil
	assert.ErrorContains(t, m.Validate(), "apps: a pod needs at least one app")
}
