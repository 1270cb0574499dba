package aci

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// create makes one rootfs entry at name (relative to the image root; parents checked).
func (x *extractor) create(name string, hdr *tar.Header, r io.Reader) error {
	target := filepath.Join(x.root, name)
	mode := fs.FileMode(hdr.Mode).Perm() | specialBits(hdr.Mode)
	var err error
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = mkdirOrChmod(target, mode)
	case tar.TypeReg, tar.TypeRegA:
		err = writeFile(target, mode, hdr.Size, r)
	case tar.TypeSymlink:
		if err = checkLink(name, hdr.Linkname); err == nil {
			err = os.Symlink(hdr.Linkname, target)
		}
	case tar.TypeLink:
		err = x.hardlink(name, hdr.Linkname, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%w: %q is a device node or fifo; pods get their /dev from the runtime", ErrUnsafe, hdr.Name)
	default:
		return fmt.Errorf("%w: %q has unsupported tar type %q", ErrFormat, hdr.Name, hdr.Typeflag)
	}
	if err != nil {
		return fmt.Errorf("aci: extract %s: %w", name, err)
	}
	return setOwner(target, hdr, mode)
}

func specialBits(m int64) fs.FileMode {
	var out fs.FileMode
	if m&0o4000 != 0 {
		out |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= fs.ModeSticky
	}
	return out
}

// mkdirOrChmod creates a directory, or adjusts one created earlier as a parent.
func mkdirOrChmod(p string, mode fs.FileMode) error {
	err := os.Mkdir(p, 0o755)
	if errors.Is(err, os.ErrExist) {
		if fi, lerr := os.Lstat(p); lerr != nil || !fi.IsDir() {
			return fmt.Errorf("%w: %q exists and is not a directory", ErrUnsafe, p)
		}
		err = nil
	}
	return err
}

func writeFile(p string, mode fs.FileMode, size int64, r io.Reader) error {
	// O_EXCL: never open (and so never follow) something already there.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("%w: file truncated: %d of %d bytes", ErrFormat, n, size)
	}
	return err
}

// checkLink refuses a relative symlink whose target, read from where the link sits, climbs
// above the image root. Absolute targets resolve inside the pod's root at run time, and
// extraction never follows a link, so they cannot escape.
func checkLink(name, target string) error {
	if target == "" {
		return fmt.Errorf("%w: symlink %q has no target", ErrFormat, name)
	}
	if path.IsAbs(target) {
		return nil
	}
	rel := strings.TrimPrefix(name, "rootfs")
	if escapes(path.Dir(rel), target) {
		return fmt.Errorf("%w: symlink %q -> %q leaves the root", ErrUnsafe, name, target)
	}
	return nil
}

// escapes reports whether following target from dir (both inside a root "/") climbs above
// the root at any step.
func escapes(dir, target string) bool {
	depth := 0
	for _, p := range strings.Split(strings.Trim(dir, "/"), "/") {
		if p != "" && p != "." {
			depth++
		}
	}
	for _, p := range strings.Split(target, "/") {
		switch p {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// hardlink links to an earlier regular file of the same archive.
func (x *extractor) hardlink(name, linkname, target string) error {
	old, err := cleanName(linkname)
	if err != nil || !strings.HasPrefix(old, "rootfs/") {
		return fmt.Errorf("%w: hard link %q -> %q points outside rootfs", ErrUnsafe, name, linkname)
	}
	if err := x.checkParents(old); err != nil {
		return err
	}
	src := filepath.Join(x.root, old)
	fi, err := os.Lstat(src)
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: hard link %q -> %q: target is not an extracted regular file", ErrUnsafe, name, linkname)
	}
	return os.Link(src, target)
}
