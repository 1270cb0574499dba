package aci

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/pod"
)

const manifestJSON = `{"acKind":"ImageManifest","acVersion":"0.8.11","name":"test/app","app":{"exec":["/bin/app"],"user":"0","group":"0"}}`

type entry struct {
	name, body, link string
	typ              byte
}

func makeTar(t testing.TB, entries ...entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		require.NoError(t, tw.WriteHeader(hdr))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func good() []entry {
	return []entry{
		{name: "manifest", body: manifestJSON},
		{name: "rootfs/", typ: tar.TypeDir},
		{name: "rootfs/bin/", typ: tar.TypeDir},
		{name: "rootfs/bin/app", body: "#!/bin/true\n"},
		{name: "rootfs/bin/sh", link: "app", typ: tar.TypeSymlink},
		{name: "rootfs/etc/hosts", body: "127.0.0.1 localhost\n"},
		{name: "rootfs/bin/app2", link: "rootfs/bin/app", typ: tar.TypeLink},
		{name: "rootfs/lib", link: "/usr/lib", typ: tar.TypeSymlink},
	}
}

func TestExtractGood(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "x")
	m, err := extract(makeTar(t, good()...), dst)
	require.NoError(t, err)
	assert.Equal(t, "test/app", m.Name)
	data, err := os.ReadFile(filepath.Join(dst, "rootfs/bin/app2"))
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/true\n", string(data))
	link, err := os.Readlink(filepath.Join(dst, "rootfs/bin/sh"))
	require.NoError(t, err)
	assert.Equal(t, "app", link)
}

func TestExtractRefusesUnsafeEntries(t *testing.T) {
	outside := t.TempDir()
	cases := []struct {
		name  string
		extra []entry
		want  string
	}{
		{"dotdot", []entry{{name: "rootfs/../../escape", body: "x"}}, "climbs out"},
		{"absolute", []entry{{name: "/etc/passwd", body: "x"}}, "absolute"},
		{"symlink escapes", []entry{{name: "rootfs/up", link: "../../..", typ: tar.TypeSymlink}}, "leaves the root"},
		{"through symlink", []entry{
			{name: "rootfs/out", link: outside, typ: tar.TypeSymlink},
			{name: "rootfs/out/pwned", body: "x"},
		}, "not a directory"},
		{"through abs symlink to file", []entry{
			{name: "rootfs/hosts2", link: "/etc/hosts", typ: tar.TypeSymlink},
			{name: "rootfs/hosts2", body: "x"},
		}, "duplicate"},
		{"char device", []entry{{name: "rootfs/dev/mem", typ: tar.TypeChar}}, "device node"},
		{"block device", []entry{{name: "rootfs/dev/sda", typ: tar.TypeBlock}}, "device node"},
		{"hardlink outside", []entry{{name: "rootfs/shadow", link: "/etc/shadow", typ: tar.TypeLink}}, "outside rootfs"},
		{"stray entry", []entry{{name: "other", body: "x"}}, "neither manifest nor under rootfs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "x")
			_, err := extract(makeTar(t, append(good(), c.extra...)...), dst)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			entries, _ := os.ReadDir(outside)
			assert.Empty(t, entries, "something was written outside the root")
		})
	}
}

func TestExtractRefusesBadImages(t *testing.T) {
	noExec := `{"acKind":"ImageManifest","acVersion":"0.8.11","name":"a","app":{"user":"0","group":"0"}}`
	_, err := extract(makeTar(t, entry{name: "manifest", body: noExec}), filepath.Join(t.TempDir(), "x"))
	assert.ErrorIs(t, err, ErrFormat)
	assert.ErrorContains(t, err, "app.exec: required")

	_, err = extract(makeTar(t, entry{name: "rootfs/a", body: "x"}), filepath.Join(t.TempDir(), "x"))
	assert.ErrorContains(t, err, "no manifest")

	whole := makeTar(t, good()...)
	_, err = extract(whole[:len(whole)/2], filepath.Join(t.TempDir(), "x"))
	assert.Error(t, err, "a truncated tar must be refused")
}

func TestBuildIsReproducibleAndRoundTrips(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "bin/app"), []byte("hello"), 0o755))
	require.NoError(t, os.Symlink("app", filepath.Join(src, "bin/sh")))
	require.NoError(t, os.Link(filepath.Join(src, "bin/app"), filepath.Join(src, "bin/app2")))
	m, err := pod.ParseImageManifest([]byte(manifestJSON))
	require.NoError(t, err)

	var a, b bytes.Buffer
	require.NoError(t, Build(src, m, &a))
	require.NoError(t, Build(src, m, &b))
	assert.Equal(t, a.Bytes(), b.Bytes())

	dst := filepath.Join(t.TempDir(), "x")
	_, err = extract(a.Bytes(), dst)
	require.NoError(t, err)
	h1, err := TreeHash(filepath.Join(dst, "rootfs"))
	require.NoError(t, err)
	h2, err := TreeHash(src)
	require.NoError(t, err)
	assert.Equal(t, h2, h1)

	require.NoError(t, os.WriteFile(filepath.Join(dst, "rootfs/bin/app"), []byte("HELLO"), 0o755))
	h3, err := TreeHash(filepath.Join(dst, "rootfs"))
	require.NoError(t, err)
	assert.NotEqual(t, h1, h3, "a changed file must change the tree hash")
}

func TestEscapes(t *testing.T) {
	assert.False(t, escapes("/bin", "../lib/x"))
	assert.True(t, escapes("/bin", "../../x"))
	assert.True(t, escapes("/", ".."))
	assert.False(t, escapes("/a/b", "c/../../d"))
	assert.True(t, escapes("/a", "b/../../../d"))
}

func extract(data []byte, dst string) (*pod.ImageManifest, error) {
	return Extract(bytes.NewReader(data), dst, int64(len(data)))
}
