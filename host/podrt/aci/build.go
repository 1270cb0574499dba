package aci

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orrery/orrery/node/pod"
)

// epoch is the modification time Build writes for every entry, so that building the same
// directory twice gives the same image ID.
var epoch = time.Unix(0, 0)

// Build writes an ACI of directory dir (which becomes rootfs/) with manifest m to w.
// Entries are written in lexical order with fixed times: the same tree and manifest give
// the same bytes, hence the same image ID. Device nodes and sockets are refused.
func Build(dir string, m *pod.ImageManifest, w io.Writer) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "manifest", Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("aci: build: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("aci: build: %w", err)
	}
	b := &builder{tw: tw, root: dir, inodes: map[uint64]string{}}
	if err := filepath.WalkDir(dir, b.add); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("aci: build: %w", err)
	}
	return nil
}

type builder struct {
	tw     *tar.Writer
	root   string
	inodes map[uint64]string // inode -> first entry name, for hard links
}

func (b *builder) add(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return fmt.Errorf("aci: build: %w", err)
	}
	rel, err := filepath.Rel(b.root, p)
	if err != nil {
		return err
	}
	name := filepath.ToSlash(filepath.Join("rootfs", rel))
	fi, err := d.Info()
	if err != nil {
		return fmt.Errorf("aci: build: %w", err)
	}
	hdr, err := b.header(p, name, fi)
	if err != nil {
		return err
	}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("aci: build %s: %w", name, err)
	}
	if hdr.Typeflag == tar.TypeReg {
		return copyFile(b.tw, p)
	}
	return nil
}

func (b *builder) header(p, name string, fi fs.FileInfo) (*tar.Header, error) {
	if fi.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket) != 0 {
		return nil, fmt.Errorf("aci: build: %s is a %s; images carry no device nodes or sockets", p, fi.Mode().Type())
	}
	link := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(p); err != nil {
			return nil, fmt.Errorf("aci: build: %w", err)
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, fmt.Errorf("aci: build %s: %w", p, err)
	}
	hdr.Name, hdr.Format = name, tar.FormatPAX
	hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
	hdr.Uname, hdr.Gname = "", ""
	if fi.IsDir() {
		hdr.Name += "/"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		if first, ok := b.inodes[st.Ino]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			b.inodes[st.Ino] = name
		}
	}
	return hdr, nil
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("aci: build: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("aci: build %s: %w", p, err)
	}
	return nil
}
