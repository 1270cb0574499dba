package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/podrt/imgstore"
)

// imageDir makes a tiny image root: no binary is needed to build, list or remove images.
func imageDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/greeting"), []byte("hello\n"), 0o644))
	return root
}

// listImages runs `image list --json` and decodes it.
func listImages(t *testing.T, data string) []imgstore.Image {
	t.Helper()
	code, out, errOut := orrery(t, "image", "--data-dir", data, "list", "--json")
	require.Equal(t, exitOK, code, errOut)
	var imgs []imgstore.Image
	require.NoError(t, json.Unmarshal([]byte(out), &imgs), out)
	return imgs
}

func TestImageBuildListRemove(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := orrery(t, "image", "--data-dir", data, "build", "--name", "example.com/hello",
		"--version", "1.2", "--exec", "/bin/hello", "--exec", "world", imageDir(t))
	require.Equal(t, exitOK, code, errOut)
	id := strings.TrimSpace(out)
	assert.Regexp(t, `^sha512-[0-9a-f]{128}$`, id)

	code, table, errOut := orrery(t, "image", "--data-dir", data, "list")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	require.Len(t, lines, 2, table)
	assert.Equal(t, []string{"ID", "NAME", "VERSION", "SIZE", "IMPORTED", "LAST", "USED"}, strings.Fields(lines[0]))
	row := strings.Fields(lines[1])
	require.GreaterOrEqual(t, len(row), 3, table)
	assert.True(t, strings.HasPrefix(id, row[0]), "the table shows the abbreviated ID: %s", table)
	assert.Equal(t, []string{"example.com/hello", "1.2"}, row[1:3])

	imgs := listImages(t, data)
	require.Len(t, imgs, 1)
	assert.Equal(t, id, string(imgs[0].ID))
	assert.Equal(t, "example.com/hello", imgs[0].Name)
	assert.Equal(t, "1.2", imgs[0].Labels["version"])
	assert.Positive(t, imgs[0].Size)

	// Building the same tree again is the same image: the store holds it once.
	code, again, _ := orrery(t, "image", "--data-dir", data, "build", "--name", "example.com/hello",
		"--version", "1.2", "--exec", "/bin/hello", "--exec", "world", imageDir(t))
	require.Equal(t, exitOK, code)
	assert.Equal(t, id, strings.TrimSpace(again))
	assert.Len(t, listImages(t, data), 1)

	code, out, errOut = orrery(t, "image", "--data-dir", data, "rm", "example.com/hello:1.2")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, id, strings.TrimSpace(out))
	assert.Empty(t, listImages(t, data))
	assert.Empty(t, storeFiles(t, data, "blobs", "trees"), "rm removes the blob and the tree")

	code, _, errOut = orrery(t, "image", "--data-dir", data, "rm", "example.com/hello")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "image not found")
}

func TestImageFetchChecksHash(t *testing.T) {
	built, data := t.TempDir(), t.TempDir()
	aci := filepath.Join(t.TempDir(), "hello.aci")
	code, out, errOut := orrery(t, "image", "--data-dir", built, "build", "--name", "example.com/hello",
		"--exec", "/bin/hello", "--output", aci, imageDir(t))
	require.Equal(t, exitOK, code, errOut)
	id := strings.TrimSpace(out)

	require.Empty(t, listImages(t, data)) // opens (creates) the empty store
	before := storeFiles(t, data)
	wrong := "sha512-" + strings.Repeat("0", 128)
	code, out, errOut = orrery(t, "image", "--data-dir", data, "fetch", "--hash", wrong, aci)
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, errOut, "hash mismatch")
	assert.Contains(t, errOut, id, "the message names the hash the file really has")
	assert.Empty(t, listImages(t, data))
	assert.Equal(t, before, storeFiles(t, data), "a refused import leaves the store as it was")

	code, _, errOut = orrery(t, "image", "--data-dir", data, "fetch", "--hash", "sha512-xyz", aci)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--hash")

	code, out, errOut = orrery(t, "image", "--data-dir", data, "fetch", "--hash", id, aci)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, id, strings.TrimSpace(out))
	assert.Len(t, listImages(t, data), 1)
}

func TestImageBadUsage(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--name", "example.com/x", imageDir(t)}, `Required flag "exec" not set`},
		{[]string{"build", "--name", "example.com/x", "--exec", "/bin/x"}, "need a directory"},
		{[]string{"build", "--name", "Not A Name", "--exec", "/bin/x", imageDir(t)}, "manifest"},
		{[]string{"fetch"}, "need one FILE or URL"},
		{[]string{"fetch", filepath.Join(data, "missing.aci")}, "no such file"},
		{[]string{"fetch", "http://example.com/app.aci"}, "only loopback URLs"},
		{[]string{"export", "x"}, "need IMAGE and FILE"},
	} {
		code, out, errOut := orrery(t, append([]string{"image", "--data-dir", data}, tc.args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s%s", tc.args, out, errOut)
		assert.Contains(t, out+errOut, tc.want, "%v", tc.args)
	}
}

// storeFiles lists the files under the image store (or the given parts of it), relative
// to it; index.db is left out: bbolt rewrites its meta pages on open.
func storeFiles(t *testing.T, data string, parts ...string) []string {
	t.Helper()
	root := filepath.Join(data, "images")
	if len(parts) == 0 {
		parts = []string{"."}
	}
	var out []string
	for _, part := range parts {
		err := filepath.WalkDir(filepath.Join(root, part), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if rel != "index.db" && !d.IsDir() {
				out = append(out, rel)
			}
			return nil
		})
		require.NoError(t, err)
	}
	slices.Sort(out)
	return out
}
