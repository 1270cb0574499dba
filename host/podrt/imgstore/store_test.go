package imgstore

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/host/podrt/aci"
	"github.com/orrery/orrery/node/pod"
)

func buildImage(t *testing.T, name, content string) []byte {
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "bin/app"), []byte(content), 0o755))
	m := &pod.ImageManifest{ACKind: pod.ACKindImage, ACVersion: pod.ACVersion, Name: name,
		Labels: []pod.Label{{Name: "version", Value: "1.0"}},
		App:    &pod.App{Exec: []string{"/bin/app"}, User: "0", Group: "0"}}
	var buf bytes.Buffer
	require.NoError(t, aci.Build(src, m, &buf))
	return buf.Bytes()
}

func open(t *testing.T) *Store {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// snapshot lists every file of the store except the index, whose pages bbolt may touch.
func snapshot(t *testing.T, s *Store) []string {
	var out []string
	filepath.Walk(s.dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !strings.HasSuffix(p, "index.db") {
			out = append(out, strings.TrimPrefix(p, s.dir))
		}
		return nil
	})
	return out
}

func TestImportListResolveTree(t *testing.T) {
	s := open(t)
	data := buildImage(t, "example.com/a", "A")
	img, err := s.Import(bytes.NewReader(data), "")
	require.NoError(t, err)
	assert.Equal(t, "example.com/a", img.Name)
	assert.Equal(t, "1.0", img.Labels["version"])
	assert.Equal(t, int64(len(data)), img.Size)

	again, err := s.Import(bytes.NewReader(data), img.ID)
	require.NoError(t, err)
	assert.Equal(t, img.ID, again.ID)

	for _, ref := range []string{"example.com/a", "example.com/a:1.0", string(img.ID), img.ID.Short()} {
		got, err := s.Resolve(ref)
		require.NoError(t, err, ref)
		assert.Equal(t, img.ID, got.ID)
	}
	_, err = s.Resolve("example.com/a:2.0")
	assert.ErrorIs(t, err, ErrNotFound)

	tree, m, err := s.Tree(img.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/app"}, m.App.Exec)
	got, err := os.ReadFile(filepath.Join(tree, "rootfs/bin/app"))
	require.NoError(t, err)
	assert.Equal(t, "A", string(got))

	var out bytes.Buffer
	require.NoError(t, s.Export(img.ID, &out))
	assert.Equal(t, data, out.Bytes())
}

func TestImportGzip(t *testing.T) {
	s := open(t)
	data := buildImage(t, "example.com/gz", "G")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	img, err := s.Import(&gz, "")
	require.NoError(t, err)
	plain, err := s.Import(bytes.NewReader(data), "")
	require.NoError(t, err)
	assert.Equal(t, plain.ID, img.ID, "the ID is the digest of the uncompressed tar")
}

func TestRefusedImportsLeaveStoreUnchanged(t *testing.T) {
	s := open(t)
	_, err := s.Import(bytes.NewReader(buildImage(t, "example.com/keep", "K")), "")
	require.NoError(t, err)
	before := snapshot(t, s)
	imgsBefore, _ := s.List()

	good := buildImage(t, "example.com/b", "B")
	wrong := pod.ImageID("sha512-" + strings.Repeat("0", 128))
	_, err = s.Import(bytes.NewReader(good), wrong)
	assert.ErrorIs(t, err, ErrHash)

	_, err = s.Import(bytes.NewReader(good[:len(good)-1500]), "")
	assert.Error(t, err, "a truncated image must be refused")

	noExec := `{"acKind":"ImageManifest","acVersion":"0.8.11","name":"a","app":{"user":"0","group":"0"}}`
	_, err = s.Import(bytes.NewReader(tarOf(t, "manifest", noExec)), "")
	assert.ErrorContains(t, err, "app.exec: required")

	_, err = s.Import(bytes.NewReader(tarOf(t, "rootfs/../../evil", "x")), "")
	assert.ErrorIs(t, err, aci.ErrUnsafe)

	assert.Equal(t, before, snapshot(t, s))
	imgsAfter, _ := s.List()
	assert.Equal(t, imgsBefore, imgsAfter)
}

func tarOf(t *testing.T, name, body string) []byte {
	var buf bytes.Buffer
	tw := newTarWriter(&buf)
	require.NoError(t, tw.add(name, body))
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func TestTamperedTreeIsRerenderedAndRottenBlobRefused(t *testing.T) {
	s := open(t)
	img, err := s.Import(bytes.NewReader(buildImage(t, "example.com/c", "C")), "")
	require.NoError(t, err)
	tree, _, err := s.Tree(img.ID)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tree, "rootfs/bin/app"), []byte("evil"), 0o755))

	tree, _, err = s.Tree(img.ID)
	require.NoError(t, err)
	got, _ := os.ReadFile(filepath.Join(tree, "rootfs/bin/app"))
	assert.Equal(t, "C", string(got), "a tampered tree is restored from the blob")

	require.NoError(t, os.WriteFile(filepath.Join(tree, "rootfs/bin/app"), []byte("evil"), 0o755))
	blob := s.blobPath(img.ID)
	data, _ := os.ReadFile(blob)
	data[600] ^= 0xff
	require.NoError(t, os.WriteFile(blob, data, 0o644))
	_, _, err = s.Tree(img.ID)
	assert.ErrorIs(t, err, ErrHash)
	assert.ErrorIs(t, s.Export(img.ID, &bytes.Buffer{}), ErrHash)
}

func TestRemoveAndGC(t *testing.T) {
	s := open(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	a, err := s.Import(bytes.NewReader(buildImage(t, "example.com/a", "A")), "")
	require.NoError(t, err)
	b, err := s.Import(bytes.NewReader(buildImage(t, "example.com/b", "B")), "")
	require.NoError(t, err)
	c, err := s.Import(bytes.NewReader(buildImage(t, "example.com/c", "C")), "")
	require.NoError(t, err)
	require.NoError(t, s.Remove(c.ID))
	assert.ErrorIs(t, s.Remove(c.ID), ErrNotFound)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "blobs/sha512", "orphan"), nil, 0o644))

	clock = clock.Add(48 * time.Hour)
	removed, err := s.GC(24*time.Hour, map[pod.ImageID]bool{a.ID: true})
	require.NoError(t, err)
	assert.Equal(t, []pod.ImageID{b.ID}, removed)
	imgs, _ := s.List()
	require.Len(t, imgs, 1)
	assert.Equal(t, a.ID, imgs[0].ID)
	blobs, _ := os.ReadDir(filepath.Join(s.dir, "blobs/sha512"))
	assert.Len(t, blobs, 1)
	trees, _ := os.ReadDir(filepath.Join(s.dir, "trees"))
	assert.Len(t, trees, 1)
}

func TestTreeRecordsUseCoarsely(t *testing.T) {
	s := open(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	img, err := s.Import(bytes.NewReader(buildImage(t, "example.com/a", "A")), "")
	require.NoError(t, err)
	lastUsed := func() time.Time {
		got, err := s.Get(img.ID)
		require.NoError(t, err)
		return got.LastUsed
	}
	clock = clock.Add(LastUsedResolution / 2)
	_, _, err = s.Tree(img.ID)
	require.NoError(t, err)
	assert.Equal(t, img.Imported, lastUsed(), "a use within the resolution writes nothing")
	clock = clock.Add(LastUsedResolution)
	_, _, err = s.Tree(img.ID)
	require.NoError(t, err)
	assert.Equal(t, clock, lastUsed())
}
