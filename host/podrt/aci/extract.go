package aci

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/orrery/orrery/node/pod"
)

// ErrUnsafe marks an archive entry refused because it could escape the extraction root
// or create something a pod must not get (a device node).
var ErrUnsafe = errors.New("aci: unsafe archive entry")

// ErrFormat marks an archive that is not a well-formed ACI.
var ErrFormat = errors.New("aci: not a valid image")

// maxManifest bounds the manifest we are willing to read into memory.
const maxManifest = 1 << 20

// Extract unpacks the ACI read from r into dst, which must not exist yet: the manifest
// to dst/manifest and the root file system to dst/rootfs. It returns the parsed manifest.
// On error dst may hold a partial tree; the caller removes it.
//
// limit bounds the bytes of file content written. Pass the archive's own size: an honest
// tar never expands beyond it, while a sparse entry (which archive/tar expands
// transparently) could claim terabytes of zeros and fill the disk.
func Extract(r io.Reader, dst string, limit int64) (*pod.ImageManifest, error) {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return nil, fmt.Errorf("aci: extract: %w", err)
	}
	x := &extractor{root: dst, seen: map[string]bool{}, budget: limit}
	tail := &tailReader{r: r}
	tr := tar.NewReader(tail)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			if !tail.zeroTrailer() {
				return nil, fmt.Errorf("%w: truncated: no end-of-archive marker", ErrFormat)
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading tar: %v", ErrFormat, err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return nil, err
		}
	}
	if x.manifest == nil {
		return nil, fmt.Errorf("%w: no manifest", ErrFormat)
	}
	if !x.seen["rootfs"] {
		if err := os.Mkdir(filepath.Join(dst, "rootfs"), 0o755); err != nil {
			return nil, fmt.Errorf("aci: extract: %w", err)
		}
	}
	return x.manifest, nil
}

type extractor struct {
	root     string
	seen     map[string]bool
	manifest *pod.ImageManifest
	budget   int64 // file bytes still allowed
}

// cleanName validates an entry name and returns it relative to the image root.
func cleanName(name string) (string, error) {
	n := strings.TrimPrefix(strings.TrimSuffix(name, "/"), "./")
	if n == "" || path.IsAbs(n) {
		return "", fmt.Errorf("%w: %q is absolute or empty", ErrUnsafe, name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: %q climbs out with ..", ErrUnsafe, name)
		}
	}
	n = path.Clean(n)
	if n != "manifest" && n != "rootfs" && !strings.HasPrefix(n, "rootfs/") {
		return "", fmt.Errorf("%w: entry %q is neither manifest nor under rootfs/", ErrFormat, name)
	}
	return n, nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if hdr.Size < 0 || hdr.Size > x.budget {
		return fmt.Errorf("%w: %q claims %d bytes, more than the archive can hold", ErrFormat, name, hdr.Size)
	}
	x.budget -= hdr.Size
	if x.seen[name] {
		return fmt.Errorf("%w: duplicate entry %q", ErrUnsafe, name)
	}
	x.seen[name] = true
	if name == "manifest" {
		return x.readManifest(hdr, r)
	}
	if err := x.checkParents(name); err != nil {
		return err
	}
	return x.create(name, hdr, r)
}

func (x *extractor) readManifest(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag != tar.TypeReg || hdr.Size > maxManifest {
		return fmt.Errorf("%w: manifest must be a regular file under %d bytes", ErrFormat, maxManifest)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxManifest))
	if err != nil {
		return fmt.Errorf("%w: reading manifest: %v", ErrFormat, err)
	}
	m, err := pod.ParseImageManifest(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	x.manifest = m
	return os.WriteFile(filepath.Join(x.root, "manifest"), data, 0o644)
}

// checkParents makes sure every directory above name exists as a real directory (not a
// symlink), creating missing ones, so that creating name cannot write outside the root.
func (x *extractor) checkParents(name string) error {
	dir := x.root
	parts := strings.Split(name, "/")
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		fi, err := os.Lstat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(dir, 0o755); err != nil {
				return fmt.Errorf("aci: extract: %w", err)
			}
		case err != nil:
			return fmt.Errorf("aci: extract: %w", err)
		case !fi.IsDir():
			return fmt.Errorf("%w: %q goes through %s, which is not a directory", ErrUnsafe, name, fi.Mode().Type())
		}
	}
	return nil
}

// tailReader remembers the last bytes read, so that Extract can tell an archive that ends
// with tar's end marker (two zero blocks) from one cut off between two entries, which
// archive/tar reports as a plain io.EOF.
type tailReader struct {
	r    io.Reader
	last [1024]byte
	n    int64
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if n >= len(t.last) {
		copy(t.last[:], p[n-len(t.last):n])
	} else if n > 0 {
		copy(t.last[:], t.last[n:])
		copy(t.last[len(t.last)-n:], p[:n])
	}
	return n, err
}

func (t *tailReader) zeroTrailer() bool {
	if t.n < int64(len(t.last)) {
		return false
	}
	for _, b := range t.last {
		if b != 0 {
			return false
		}
	}
	return true
}
