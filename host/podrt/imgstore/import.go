package imgstore

import (
	"bufio"
	"compress/gzip"
	"crypto/sha512"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/orrery/orrery/host/podrt/aci"
	"github.com/orrery/orrery/node/pod"
)

// Import adds the ACI read from r (plain or gzip-compressed tar) to the store. When want is
// not empty the image's ID must equal it. Importing an image already present returns its
// entry. On any error the store is unchanged.
func (s *Store) Import(r io.Reader, want pod.ImageID) (Image, error) {
	stage, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "import-")
	if err != nil {
		return Image{}, fmt.Errorf("imgstore: %w", err)
	}
	defer os.RemoveAll(stage)
	id, size, err := s.stageBlob(r, filepath.Join(stage, "blob"))
	if err != nil {
		return Image{}, err
	}
	if want != "" && id != want {
		return Image{}, fmt.Errorf("%w: expected %s, got %s", ErrHash, want, id)
	}
	if img, err := s.Get(id); err == nil {
		return img, nil
	}
	img, err := s.stageTree(filepath.Join(stage, "blob"), filepath.Join(stage, "tree"))
	if err != nil {
		return Image{}, err
	}
	img.ID, img.Size = id, size
	img.Imported = s.now().UTC()
	img.LastUsed = img.Imported
	return img, s.commit(stage, img)
}

// stageBlob decompresses r if needed and writes it to path, returning its image ID.
func (s *Store) stageBlob(r io.Reader, path string) (pod.ImageID, int64, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return "", 0, fmt.Errorf("%w: gzip: %v", aci.ErrFormat, err)
		}
		defer gz.Close()
		src = gz
	}
	f, err := os.Create(path)
	if err != nil {
		return "", 0, fmt.Errorf("imgstore: %w", err)
	}
	h := sha512.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("imgstore: reading image: %w", err)
	}
	var sum [sha512.Size]byte
	copy(sum[:], h.Sum(nil))
	return pod.ImageIDOf(sum), n, nil
}

// stageTree extracts the staged blob and fingerprints the result.
func (s *Store) stageTree(blob, tree string) (Image, error) {
	f, err := os.Open(blob)
	if err != nil {
		return Image{}, fmt.Errorf("imgstore: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Image{}, fmt.Errorf("imgstore: %w", err)
	}
	m, err := aci.Extract(f, tree, fi.Size())
	if err != nil {
		return Image{}, err
	}
	// A valid tar may be followed by junk; the ID covers it, so the image is what was given.
	th, err := aci.TreeHash(filepath.Join(tree, "rootfs"))
	if err != nil {
		return Image{}, err
	}
	img := Image{Name: m.Name, TreeHash: th, Labels: map[string]string{}}
	for _, l := range m.Labels {
		img.Labels[l.Name] = l.Value
	}
	return img, nil
}

// commit moves the staged blob and tree into place and then writes the index entry.
func (s *Store) commit(stage string, img Image) error {
	blob, tree := s.blobPath(img.ID), s.treePath(img.ID)
	_ = os.RemoveAll(tree) // a leftover of an import that crashed before its index entry
	if err := os.Rename(filepath.Join(stage, "blob"), blob); err != nil {
		return fmt.Errorf("imgstore: %w", err)
	}
	if err := os.Rename(filepath.Join(stage, "tree"), tree); err != nil {
		os.Remove(blob)
		return fmt.Errorf("imgstore: %w", err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return s.put(tx, img) })
	if err != nil {
		os.Remove(blob)
		os.RemoveAll(tree)
		return fmt.Errorf("imgstore: index: %w", err)
	}
	return nil
}
