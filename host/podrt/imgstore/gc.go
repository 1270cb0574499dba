package imgstore

import (
	"crypto/sha512"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/orrery/orrery/node/pod"
)

func hashReader(r io.Reader) (pod.ImageID, int64, error) {
	h := sha512.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, fmt.Errorf("imgstore: %w", err)
	}
	var sum [sha512.Size]byte
	copy(sum[:], h.Sum(nil))
	return pod.ImageIDOf(sum), n, nil
}

// Remove deletes an image: the index entry first, then its files.
func (s *Store) Remove(id pod.ImageID) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketImages)
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return err
	}
	return s.removeFiles(id)
}

func (s *Store) removeFiles(id pod.ImageID) error {
	if err := os.Remove(s.blobPath(id)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("imgstore: %w", err)
	}
	if err := os.RemoveAll(s.treePath(id)); err != nil {
		return fmt.Errorf("imgstore: %w", err)
	}
	return nil
}

// GC removes images unused for longer than grace that inUse does not name, then sweeps
// files the index does not know (left by a crash mid-import or mid-removal). It returns the
// IDs of the images it removed.
func (s *Store) GC(grace time.Duration, inUse map[pod.ImageID]bool) ([]pod.ImageID, error) {
	imgs, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []pod.ImageID
	for _, img := range imgs {
		if inUse[img.ID] || s.now().Sub(img.LastUsed) < grace {
			continue
		}
		if err := s.Remove(img.ID); err != nil {
			return removed, err
		}
		removed = append(removed, img.ID)
	}
	return removed, s.sweep()
}

// sweep removes blobs and trees with no index entry, and staging leftovers.
func (s *Store) sweep() error {
	known := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
			known[string(k)] = true
			return nil
		})
	})
	if err != nil {
		return err
	}
	blobs, _ := os.ReadDir(filepath.Join(s.dir, "blobs/sha512"))
	for _, b := range blobs {
		if !known["sha512-"+b.Name()] {
			os.Remove(filepath.Join(s.dir, "blobs/sha512", b.Name()))
		}
	}
	trees, _ := os.ReadDir(filepath.Join(s.dir, "trees"))
	for _, t := range trees {
		if !known[t.Name()] {
			os.RemoveAll(filepath.Join(s.dir, "trees", t.Name()))
		}
	}
	tmp, _ := os.ReadDir(filepath.Join(s.dir, "tmp"))
	for _, t := range tmp {
		os.RemoveAll(filepath.Join(s.dir, "tmp", t.Name()))
	}
	return nil
}
