package disk

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/orrery/orrery/node/component"
)

func TestRoundTripAcrossReopen(t *testing.T) {
	d := open(t, filepath.Join(t.TempDir(), "a", "b")) // Open creates missing parents
	d.Append("wal-1", []byte("one"))
	d.Append("wal-2", []byte("x"))
	d.Append("wal-1", []byte("two"))
	d.Append("wal-1", nil)
	require.NoError(t, d.Sync())
	d, got := reopen(t, d)
	assert.Equal(t, map[string][][]byte{"wal-1": recs("one", "two", ""), "wal-2": recs("x")}, got.Files)
	assert.Empty(t, got.Corrupt)
	assert.Zero(t, got.Torn)

	// Appends after a restart continue the file.
	d.Append("wal-1", []byte("three"))
	require.NoError(t, d.Sync())
	_, got = reopen(t, d)
	assert.Equal(t, []string{"one", "two", "", "three"}, strs(got.Files["wal-1"]))
}

func TestRemoveThenAppend(t *testing.T) {
	d := open(t, t.TempDir())
	d.Append("snap", []byte("old-1"))
	d.Append("snap", []byte("old-2"))
	d.Append("keep", []byte("k"))
	require.NoError(t, d.Sync())

	// In one batch: the removal drops the file, the appends after it start a new one.
	d.Remove("snap")
	d.Append("snap", []byte("new-1"))
	d.Append("snap", []byte("new-2"))
	d.Remove("never-existed")
	require.NoError(t, d.Sync())
	d, got := reopen(t, d)
	assert.Equal(t, map[string][][]byte{"snap": recs("new-1", "new-2"), "keep": recs("k")}, got.Files)

	// Across batches, and a removal as the last word.
	d.Remove("snap")
	require.NoError(t, d.Sync())
	d.Append("snap", []byte("newer"))
	d.Remove("keep")
	require.NoError(t, d.Sync())
	_, got = reopen(t, d)
	assert.Equal(t, map[string][][]byte{"snap": recs("newer")}, got.Files)
}

func TestManyAppendsOneJournalFrame(t *testing.T) {
	d := open(t, t.TempDir())
	before := lastTxID(t, d)
	want := make([]string, 1000)
	for i := range want {
		want[i] = fmt.Sprintf("record-%04d", i)
		d.Append(fmt.Sprintf("file-%d", i%3), []byte(want[i]))
	}
	start := d.j.off
	require.NoError(t, d.Sync())
	assert.Equal(t, before, lastTxID(t, d), "a Sync goes to the journal, not to bbolt")
	frame := d.j.off - start
	assert.Positive(t, frame)
	n, err := d.j.f.ReadAt(make([]byte, frameHeader), start)
	require.NoError(t, err)
	require.Equal(t, frameHeader, n)
	require.NoError(t, d.Sync())
	assert.Equal(t, start+frame, d.j.off, "a Sync with nothing buffered should not write")
	require.NoError(t, d.j.checkpoint(d.db))
	assert.Equal(t, before+1, lastTxID(t, d), "a full journal goes into bbolt in one commit")

	_, got := reopen(t, d)
	for f := range 3 {
		var exp []string
		for i := f; i < len(want); i += 3 {
			exp = append(exp, want[i])
		}
		assert.Equal(t, exp, strs(got.Files[fmt.Sprintf("file-%d", f)]))
	}
}

// lastTxID is the ID of the last committed write transaction: a read transaction sees it.
func lastTxID(t *testing.T, d *Disk) int {
	tx, err := d.db.Begin(false)
	require.NoError(t, err)
	defer tx.Rollback()
	return tx.ID()
}

// Close is not Sync: closing without syncing is how these tests simulate a crash.
func TestCloseDropsUnsyncedWrites(t *testing.T) {
	d := open(t, t.TempDir())
	d.Append("log", []byte("synced"))
	d.Remove("gone")
	require.NoError(t, d.Sync())
	d.Append("log", []byte("lost"))
	d.Append("other", []byte("lost"))
	d.Remove("log")
	d, got := reopen(t, d)
	assert.Equal(t, map[string][][]byte{"log": recs("synced")}, got.Files)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close twice")
	assert.ErrorIs(t, d.Sync(), ErrClosed)
}

func TestCorruptRecordEndsFile(t *testing.T) {
	five := recs("r0", "r1", "r2", "r3", "r4")
	tests := []struct {
		name   string
		damage func(b *bolt.Bucket) error
		index  int // first bad record
	}{
		{"flipped byte in the middle", flip(2, sumLen+1), 2},
		{"flipped byte in the checksum", flip(1, 0), 1},
		{"flipped byte in the first record", flip(0, sumLen), 0},
		// bbolt cannot tear a commit, so a bad last record is rot too, not a torn write.
		{"flipped byte in the last record", flip(4, sumLen+1), 4},
		{"value shorter than a checksum", put(3, []byte{1, 2}), 3},
		{"record missing", func(b *bolt.Bucket) error { return b.Delete(key(2)) }, 1},
		{"stray key", func(b *bolt.Bucket) error { return b.Put([]byte("x"), encode(nil)) }, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d := open(t, dir)
			for _, r := range five {
				d.Append("wal", r)
			}
			d.Append("fine", []byte("ok"))
			require.NoError(t, d.Sync())
			require.NoError(t, d.Close())
			require.NoError(t, open(t, dir).Close()) // the journal goes into bbolt
			damage(t, dir, "wal", tt.damage)

			d = open(t, dir)
			defer d.Close()
			got := mustRecover(t, d)
			assert.Equal(t, []component.CorruptRecord{{File: "wal", Index: tt.index}}, got.Corrupt)
			assert.Equal(t, five[:tt.index], append([][]byte{}, got.Files["wal"]...), "only the records before the bad one")
			assert.Equal(t, recs("ok"), got.Files["fine"])
			assert.Zero(t, got.Torn)
		})
	}
}

// damage opens the database behind the Disk's back and changes file's bucket.
func damage(t *testing.T, dir, file string, fn func(*bolt.Bucket) error) {
	db, err := bolt.Open(filepath.Join(dir, dbName), 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketName(file))) }))
}

// flip inverts one byte of the stored value of record index.
func flip(index, at int) func(*bolt.Bucket) error {
	return func(b *bolt.Bucket) error {
		v := append([]byte{}, b.Get(key(uint64(index)+1))...)
		v[at] ^= 0xff
		return b.Put(key(uint64(index)+1), v)
	}
}

func put(index int, v []byte) func(*bolt.Bucket) error {
	return func(b *bolt.Bucket) error { return b.Put(key(uint64(index)+1), v) }
}

func TestUnknownBucketIsAFormatError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, open(t, dir).Close())
	db, err := bolt.Open(filepath.Join(dir, dbName), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("alien")); return err }))
	require.NoError(t, db.Close())

	d := open(t, dir)
	defer d.Close()
	_, err = d.Recover()
	assert.ErrorIs(t, err, ErrFormat)
}

func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	_, err := Open(dir, Options{})
	require.ErrorIs(t, err, ErrInUse)
	assert.Contains(t, err.Error(), "data dir "+dir+" is in use by another process")
	require.NoError(t, d.Close())
	d = open(t, dir) // the lock went with Close
	require.NoError(t, d.Close())
}

func TestFailedSyncPoisonsTheDisk(t *testing.T) {
	d := open(t, t.TempDir())
	d.Append("log", []byte("a"))
	require.NoError(t, d.Sync())
	require.NoError(t, d.j.f.Close()) // any write error will do: this one is "file already closed"

	d.Append("log", []byte("b"))
	err := d.Sync()
	require.ErrorIs(t, err, ErrFailed)
	d.Append("log", []byte("c"))
	assert.ErrorIs(t, d.Sync(), ErrFailed, "a later Sync must not report success")
	assert.Empty(t, d.pending, "writes after a failure are dropped")
	d.db.Close()
	d.lock.Close()

	d = open(t, d.Dir())
	defer d.Close()
	assert.Equal(t, recs("a"), mustRecover(t, d).Files["log"])
}

// Writers append while others sync: every write issued before a Sync returned nil is
// durable, in each writer's order.
func TestConcurrentAppendAndSync(t *testing.T) {
	d := open(t, t.TempDir())
	const writers, each = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			file := fmt.Sprintf("w%d", w)
			for i := range each {
				d.Append(file, binary.BigEndian.AppendUint32(nil, uint32(i)))
				if i%7 == 0 {
					assert.NoError(t, d.Sync())
				}
			}
			assert.NoError(t, d.Sync())
		})
	}
	wg.Wait()
	_, got := reopen(t, d)
	for w := range writers {
		rs := got.Files[fmt.Sprintf("w%d", w)]
		require.Len(t, rs, each)
		for i, r := range rs {
			require.Equal(t, uint32(i), binary.BigEndian.Uint32(r))
		}
	}
}
