package imgstore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/orrery/orrery/host/podrt/aci"
	"github.com/orrery/orrery/node/pod"
)

// Tree returns the extracted root of image id (DIR/trees/ID, with manifest and rootfs/)
// after checking its content hash, and marks the image used. A tree that no longer
// matches (someone wrote into the shared layer, or the disk rotted) is extracted again
// from the blob; a blob that no longer matches its ID is an error, never served.
func (s *Store) Tree(id pod.ImageID) (string, *pod.ImageManifest, error) {
	img, err := s.Get(id)
	if err != nil {
		return "", nil, err
	}
	tree := s.treePath(id)
	if th, err := aci.TreeHash(filepath.Join(tree, "rootfs")); err != nil || th != img.TreeHash {
		if err := s.rerender(img); err != nil {
			return "", nil, err
		}
	}
	m, err := readManifest(tree)
	if err != nil {
		return "", nil, err
	}
	if now := s.now().UTC(); now.Sub(img.LastUsed) >= LastUsedResolution {
		img.LastUsed = now
		if err := s.db.Update(func(tx *bolt.Tx) error { return s.put(tx, img) }); err != nil {
			return "", nil, fmt.Errorf("imgstore: index: %w", err)
		}
	}
	return tree, m, nil
}

// LastUsedResolution is how stale an image's LastUsed may be before Tree records a new
// use. Recording costs an index write (two fdatasyncs) on every pod start; GC grace
// periods are hours, and an image a pod uses is kept whatever its LastUsed says.
const LastUsedResolution = time.Minute

func readManifest(tree string) (*pod.ImageManifest, error) {
	data, err := os.ReadFile(filepath.Join(tree, "manifest"))
	if err != nil {
		return nil, fmt.Errorf("imgstore: %w", err)
	}
	return pod.ParseImageManifest(data)
}

// rerender replaces a damaged tree with a fresh extraction of the verified blob.
func (s *Store) rerender(img Image) error {
	if err := s.VerifyBlob(img.ID); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), "render-")
	if err != nil {
		return fmt.Errorf("imgstore: %w", err)
	}
	defer os.RemoveAll(stage)
	fresh, err := s.stageTree(s.blobPath(img.ID), filepath.Join(stage, "tree"))
	if err != nil {
		return err
	}
	if fresh.TreeHash != img.TreeHash {
		return fmt.Errorf("imgstore: %s renders to tree %s, index says %s", img.ID.Short(), fresh.TreeHash, img.TreeHash)
	}
	tree := s.treePath(img.ID)
	if err := os.RemoveAll(tree); err != nil {
		return fmt.Errorf("imgstore: %w", err)
	}
	return os.Rename(filepath.Join(stage, "tree"), tree)
}

// VerifyBlob rehashes the stored blob of id.
func (s *Store) VerifyBlob(id pod.ImageID) error {
	f, err := os.Open(s.blobPath(id))
	if err != nil {
		return fmt.Errorf("imgstore: %w", err)
	}
	defer f.Close()
	got, _, err := hashReader(f)
	if err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("%w: stored blob of %s now hashes to %s", ErrHash, id.Short(), got.Short())
	}
	return nil
}

// Export writes the image's ACI to w after verifying it.
func (s *Store) Export(id pod.ImageID, w io.Writer) error {
	if err := s.VerifyBlob(id); err != nil {
		return err
	}
	f, err := os.Open(s.blobPath(id))
	if err != nil {
		return fmt.Errorf("imgstore: %w", err)
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
