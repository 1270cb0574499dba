package disk

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Append adds rec to the end of file once the next Sync commits. rec is copied: the caller
// keeps it. Errors, if any, are reported by Sync; bbolt's key limit caps a file's name at
// 32 KiB less two bytes and its records at 2 GiB.
func (d *Disk) Append(file string, rec []byte) {
	d.buffer(op{file: file, value: encode(rec)})
}

// Remove deletes file, and every record in it, once the next Sync commits. Removing a file
// that does not exist is not an error. Appends to the same name after a Remove start a new
// file.
func (d *Disk) Remove(file string) {
	d.buffer(op{file: file, remove: true})
}

func (d *Disk) buffer(o op) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failed == nil {
		d.pending = append(d.pending, o)
	}
}

// Sync makes every Append and Remove issued before it durable, in issue order, and returns
// nil once they are: all buffered writes go into one journal frame and one fdatasync,
// however many records they are (see the package doc).
//
// A failed commit returns an error wrapping ErrFailed and poisons the Disk: the buffered
// writes are dropped, and so is everything issued later, and every later Sync fails too.
// After an fsync error the kernel may have written some pages and dropped others, so
// what is on disk is unknown until the next Open (Linux's fsyncgate: retrying the fsync
// would "succeed" and lie). Keeping the writes for a retry would offer a way to believe
// in that lie; the component halts on the error anyway (see component.Synced) and learns
// what survived from Recover.
func (d *Disk) Sync() error {
	d.commitMu.Lock()
	defer d.commitMu.Unlock()
	d.mu.Lock()
	batch, failed := d.pending, d.failed
	d.pending = nil
	d.mu.Unlock()
	if failed != nil {
		return failed
	}
	if len(batch) == 0 {
		return nil // every earlier batch committed before commitMu was ours
	}
	err := d.j.write(d.db, batch)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%w: %s: %w", ErrFailed, d.dir, err)
	d.mu.Lock()
	d.failed, d.pending = err, nil
	d.mu.Unlock()
	return err
}

// apply writes a batch inside one transaction. Buckets are looked up once per file and
// batch, which matters for the many small appends group commit is for.
func apply(tx *bolt.Tx, batch []op) error {
	open := map[string]*bolt.Bucket{}
	for _, o := range batch {
		if o.remove {
			delete(open, o.file)
			err := tx.DeleteBucket(bucketName(o.file))
			if err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return fmt.Errorf("remove %q: %w", o.file, err)
			}
			continue
		}
		b := open[o.file]
		if b == nil {
			var err error
			if b, err = tx.CreateBucketIfNotExists(bucketName(o.file)); err != nil {
				return fmt.Errorf("append %q: %w", o.file, err)
			}
			// Keys only ever grow, so split pages need no room for inserts.
			b.FillPercent = 1
			open[o.file] = b
		}
		seq, err := b.NextSequence()
		if err == nil {
			err = b.Put(key(seq), o.value)
		}
		if err != nil {
			return fmt.Errorf("append %q: %w", o.file, err)
		}
	}
	return nil
}
