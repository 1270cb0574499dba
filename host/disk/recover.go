package disk

import (
	"bytes"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/orrery/orrery/node/component"
)

// Recover reads what is durable: every file and its verified records, as the component
// contract's Start input wants them. It sees only committed data, never writes buffered
// since the last Sync, so a driver calls it right after Open, before any Append.
//
// A record that fails verification (its checksum, or a key out of sequence) ends its file
// and is listed in Corrupt, with records after it withheld, as component.Recovery asks.
// Every bad record counts as corruption, even the last one in its file: a bbolt commit is
// atomic, so a crash cannot leave a record half-written, and Torn is always 0. The records
// returned are copies the caller owns. Files come out of bbolt in name order, so Corrupt
// is sorted by file.
//
// Recover leaves a corrupt file as it is: appends to it land after the damage and will
// not be served either, so a component that wants to go on must Remove the file first.
func (d *Disk) Recover() (rec component.Recovery, err error) {
	rec.Files = map[string][][]byte{}
	// Recover reads bbolt; batches synced since Open are still only in the journal.
	d.commitMu.Lock()
	d.mu.Lock()
	failed := d.failed
	d.mu.Unlock()
	if failed == nil && len(d.j.ops) > 0 {
		err = d.j.checkpoint(d.db)
	}
	d.commitMu.Unlock()
	if err != nil {
		return component.Recovery{}, fmt.Errorf("disk: recover %s: %w", d.dir, err)
	}
	// bbolt panics on some damage to its own pages rather than returning an error. A node
	// that cannot recover should say which data dir is broken, not print a stack trace.
	defer func() {
		if p := recover(); p != nil {
			rec, err = component.Recovery{}, fmt.Errorf("%w: %s is damaged: %v", ErrFormat, d.dbPath(), p)
		}
	}()
	err = d.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if bytes.Equal(name, metaBucket) {
				return nil
			}
			file, ok := fileName(name)
			if !ok {
				return fmt.Errorf("%w: bucket %q in %s", ErrFormat, name, d.dbPath())
			}
			recs, ok := readFile(b)
			rec.Files[file] = recs
			if !ok {
				rec.Corrupt = append(rec.Corrupt, component.CorruptRecord{File: file, Index: len(recs)})
			}
			return nil
		})
	})
	if err != nil {
		return component.Recovery{}, fmt.Errorf("disk: recover %s: %w", d.dir, err)
	}
	return rec, nil
}

// readFile returns a file's records up to the first bad one, and false if there was one.
func readFile(b *bolt.Bucket) ([][]byte, bool) {
	var recs [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, ok := decode(len(recs), k, v)
		if !ok {
			return recs, false
		}
		// bbolt's values live in its mmap, valid only inside the transaction.
		recs = append(recs, slices.Clone(r))
	}
	return recs, true
}
