package imgstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/orrery/orrery/node/pod"
)

// Errors callers can test for.
var (
	ErrNotFound  = errors.New("imgstore: image not found")
	ErrAmbiguous = errors.New("imgstore: ambiguous image reference")
	ErrHash      = errors.New("imgstore: image hash mismatch")
)

var bucketImages = []byte("images")

// Image is the index entry of one image.
type Image struct {
	ID       pod.ImageID       `json:"id"`
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Size     int64             `json:"size"`
	Imported time.Time         `json:"imported"`
	LastUsed time.Time         `json:"lastUsed"`
	TreeHash string            `json:"treeHash"`
}

// Store is an open image store. It is safe for use by one goroutine; several processes
// may open the same store, and bbolt's file lock serialises them.
type Store struct {
	dir string
	db  *bolt.DB
	now func() time.Time
}

// Open opens (creating if needed) the image store under dataDir/images.
func Open(dataDir string) (*Store, error) {
	dir := filepath.Join(dataDir, "images")
	for _, d := range []string{"blobs/sha512", "trees", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("imgstore: %w", err)
		}
	}
	db, err := bolt.Open(filepath.Join(dir, "index.db"), 0o644, &bolt.Options{Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("imgstore: open index: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketImages)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("imgstore: init index: %w", err)
	}
	return &Store{dir: dir, db: db, now: time.Now}, nil
}

// Close releases the index.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) blobPath(id pod.ImageID) string {
	return filepath.Join(s.dir, "blobs/sha512", string(id[len("sha512-"):]))
}

func (s *Store) treePath(id pod.ImageID) string { return filepath.Join(s.dir, "trees", string(id)) }

// List returns every image, in ID order.
func (s *Store) List() ([]Image, error) {
	var out []Image
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketImages).ForEach(func(_, v []byte) error {
			var img Image
			if err := json.Unmarshal(v, &img); err != nil {
				return fmt.Errorf("imgstore: corrupt index entry: %w", err)
			}
			out = append(out, img)
			return nil
		})
	})
	return out, err
}

// Get returns the index entry of a full image ID.
func (s *Store) Get(id pod.ImageID) (Image, error) {
	var img Image
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketImages).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return json.Unmarshal(v, &img)
	})
	return img, err
}

func (s *Store) put(tx *bolt.Tx, img Image) error {
	v, err := json.Marshal(img)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketImages).Put([]byte(img.ID), v)
}
