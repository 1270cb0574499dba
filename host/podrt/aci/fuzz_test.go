package aci

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExtract feeds arbitrary archives to Extract and checks the one property that
// matters: whatever it does, nothing appears outside the destination, and every symlink
// left inside it stays inside the root.
func FuzzExtract(f *testing.F) {
	f.Add(makeTar(f, good()...))
	f.Add(makeTar(f, entry{name: "manifest", body: manifestJSON}, entry{name: "rootfs/../x", body: "x"}))
	f.Add(makeTar(f, entry{name: "manifest", body: manifestJSON}, entry{name: "rootfs/l", link: "/tmp", typ: tar.TypeSymlink}, entry{name: "rootfs/l/x", body: "x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		dst := filepath.Join(base, "x")
		_, _ = Extract(bytes.NewReader(data), dst, int64(len(data)))
		entries, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 1 {
			t.Fatalf("extraction wrote outside its root: %v", entries)
		}
		_ = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			target, _ := os.Readlink(p)
			rel := strings.TrimPrefix(p, filepath.Join(dst, "rootfs"))
			if !filepath.IsAbs(target) && escapes(filepath.Dir(rel), target) {
				t.Fatalf("symlink %s -> %s escapes", p, target)
			}
			return nil
		})
	})
}
