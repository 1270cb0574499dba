package aci

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// TreeHash fingerprints the tree under root: every entry's path, type, permissions,
// owner, size, and the contents of files and symlinks, in lexical order. Times are left
// out: they change when a tree is merely read or copied, and do not change what runs.
func TreeHash(root string) (string, error) {
	h := sha512.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return hashEntry(h, root, p)
	})
	if err != nil {
		return "", fmt.Errorf("aci: tree hash %s: %w", root, err)
	}
	return "sha512-" + hex.EncodeToString(h.Sum(nil)), nil
}

func hashEntry(h hash.Hash, root, p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(root, p)
	uid, gid := -1, -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, gid = int(st.Uid), int(st.Gid)
	}
	fmt.Fprintf(h, "%q %v %d %d %d\n", rel, fi.Mode(), uid, gid, fi.Size())
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "-> %q\n", target)
	case fi.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
	}
	return nil
}
