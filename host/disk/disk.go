package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors callers can test for with errors.Is.
var (
	// ErrInUse: another process (or another Open in this one) holds the data directory.
	ErrInUse = errors.New("disk: data dir is in use by another process")
	// ErrFailed: a commit failed. The Disk refuses every later Sync, because after a failed
	// fsync nobody knows which writes reached the platter; only a restart (Close, Open,
	// Recover) learns what survived.
	ErrFailed = errors.New("disk: commit failed")
	// ErrClosed: the Disk was closed.
	ErrClosed = errors.New("disk: closed")
	// ErrFormat: orrery.db holds something this package did not write.
	ErrFormat = errors.New("disk: unexpected database content")
)

// dbName is the database file inside the data directory.
const dbName = "orrery.db"

// Options tunes Open. The zero value is what a node wants.
type Options struct {
	// Timeout bounds the wait for bbolt's own lock on orrery.db. Open takes the directory's
	// lock first, without waiting, so this wait happens only when something bypassed that
	// lock (a debugging tool opening the file directly); zero means one second.
	Timeout time.Duration
}

// Disk is one node's durable record store. Append and Remove buffer writes in memory;
// Sync commits them. All methods are safe for concurrent use: a driver may keep appending
// while another goroutine's Sync is in progress, and those writes go to the next commit.
type Disk struct {
	dir  string
	lock *os.File
	db   *bolt.DB
	j    *journal // guarded by commitMu

	// commitMu orders commits: a batch is taken and committed under it, so batches reach
	// the database in the order they were issued and a Sync that returns covers every
	// write issued before it was called, even writes taken by a concurrent Sync.
	commitMu sync.Mutex

	mu      sync.Mutex // guards pending and failed
	pending []op
	failed  error // sticky: ErrFailed or ErrClosed
}

// op is one buffered write.
type op struct {
	file   string
	value  []byte // checksum and record, as stored
	remove bool
}

// Open opens the data directory dir, creating it if needed, and locks it for this Disk
// until Close. It does not read the records: call Recover for that.
func Open(dir string, opts Options) (*Disk, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	created, err := mkdir(dir)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, dbName), 0o600, &bolt.Options{Timeout: opts.Timeout})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("disk: open %s: %w", filepath.Join(dir, dbName), err)
	}
	// bbolt fsyncs the file but never its directory: without this a crash soon after the
	// first start could lose the directory entry, and with it every record synced since.
	if err := syncDirs(dir, created); err != nil {
		db.Close()
		lock.Close()
		return nil, err
	}
	j, err := openJournal(dir, db)
	if err == nil {
		// The journal may have just been created: its directory entry must be durable
		// before any Sync counts on it.
		if err = syncDir(dir); err != nil {
			j.f.Close()
		}
	}
	if err != nil {
		db.Close()
		lock.Close()
		return nil, err
	}
	return &Disk{dir: dir, lock: lock, db: db, j: j}, nil
}

// Close releases the database and the directory lock. It does not sync: writes buffered
// since the last Sync are dropped, exactly as a crash would drop them, so a driver that
// wants them kept calls Sync first. Close waits for a Sync in progress to finish.
func (d *Disk) Close() error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	d.mu.Lock()
	if errors.Is(d.failed, ErrClosed) {
		d.mu.Unlock()
		return nil
	}
	d.failed, d.pending = ErrClosed, nil
	d.mu.Unlock()
	err := d.db.Close()
	if jerr := d.j.f.Close(); err == nil {
		err = jerr
	}
	// The lock goes last, so that whoever takes it next finds the database closed.
	if lerr := d.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("disk: close %s: %w", d.dir, err)
	}
	return nil
}

// Dir returns the data directory.
func (d *Disk) Dir() string { return d.dir }

// mkdir creates dir if needed and reports whether it did.
func mkdir(dir string) (bool, error) {
	_, err := os.Stat(dir)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("disk: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("disk: %w", err)
	}
	return true, nil
}

// syncDirs makes dir's entries durable, and dir's own entry in its parent when Open
// created it.
func syncDirs(dir string, created bool) error {
	dirs := []string{dir}
	if created {
		dirs = append(dirs, filepath.Dir(dir))
	}
	for _, p := range dirs {
		if err := syncDir(p); err != nil {
			return fmt.Errorf("disk: sync directory %s: %w", p, err)
		}
	}
	return nil
}

func syncDir(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (d *Disk) dbPath() string { return filepath.Join(d.dir, dbName) }

// Size returns the size of the database file in bytes (0 if it cannot be read), for
// status reports. The journal's preallocated file is not counted.
func (d *Disk) Size() int64 {
	fi, err := os.Stat(d.dbPath())
	if err != nil {
		return 0
	}
	return fi.Size()
}
