package aci

import (
	"archive/tar"
	"io/fs"
	"os"
	"time"
)

// setOwner gives an entry its owner, mode and modification time. Ownership needs root; an
// unprivileged extraction (tests, rootless) keeps the caller's ids.
func setOwner(p string, hdr *tar.Header, mode fs.FileMode) error {
	if os.Geteuid() == 0 {
		if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	if hdr.Typeflag == tar.TypeLink {
		return nil // shares the inode of its target, already set
	}
	if err := os.Chmod(p, mode); err != nil {
		return err
	}
	mt := hdr.ModTime
	if mt.IsZero() {
		mt = time.Unix(0, 0)
	}
	return os.Chtimes(p, mt, mt)
}
