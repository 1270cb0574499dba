package disk

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A frame cut short by a crash (its fdatasync never returned) is dropped; the ones before
// it stay.
func TestTornJournalTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	d.Append("log", []byte("first"))
	require.NoError(t, d.Sync())
	second := d.j.off
	d.Append("log", []byte("second"))
	d.Append("log", []byte("third"))
	require.NoError(t, d.Sync())
	end := d.j.off
	require.NoError(t, d.Close())

	f, err := os.OpenFile(filepath.Join(dir, journalName), os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, 5), end-5) // the last bytes never reached the disk
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Greater(t, end-5, second)

	d = open(t, dir)
	defer d.Close()
	got := mustRecover(t, d)
	assert.Equal(t, recs("first"), got.Files["log"])
	assert.Empty(t, got.Corrupt)
}

// Damage in a frame that later frames follow is rot, not a torn write: Open refuses and
// names the journal, rather than silently serving a log with synced batches missing.
func TestDamagedJournalFrameIsAFormatError(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	d.Append("log", []byte("first"))
	require.NoError(t, d.Sync())
	d.Append("log", []byte("second"))
	require.NoError(t, d.Sync())
	require.NoError(t, d.Close())

	path := filepath.Join(dir, journalName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xff}, journalHeader+frameHeader+2) // inside the first frame
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "damaged")
}

// A crash after bbolt absorbed the journal but before the journal was reset must not
// apply its batches a second time.
func TestAbsorbedJournalIsNotReplayedTwice(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	d.Append("log", []byte("once"))
	d.Remove("gone")
	require.NoError(t, d.Sync())
	require.NoError(t, absorb(d.db, d.j.gen, d.j.ops)) // and then the process dies
	require.NoError(t, d.Close())

	d = open(t, dir)
	got := mustRecover(t, d)
	assert.Equal(t, recs("once"), got.Files["log"])
	d.Append("log", []byte("twice"))
	require.NoError(t, d.Sync())
	d, got = reopen(t, d)
	defer d.Close()
	assert.Equal(t, recs("once", "twice"), got.Files["log"])
}

// A full journal goes into bbolt and starts over; a batch bigger than the whole journal
// goes to bbolt directly. Either way every synced record is recovered, in order.
func TestJournalFillsUp(t *testing.T) {
	defer func(n int64) { journalSize = n }(journalSize)
	journalSize = 4 << 10
	dir := t.TempDir()
	d := open(t, dir)
	var want []string
	for i := range 600 {
		want = append(want, fmt.Sprintf("record-%04d", i))
		d.Append("log", []byte(want[i]))
		if i%3 == 0 {
			require.NoError(t, d.Sync())
		}
	}
	big := string(make([]byte, 2*journalSize))
	want = append(want, big)
	d.Append("log", []byte(big))
	require.NoError(t, d.Sync())
	gen := d.j.gen
	assert.Greater(t, gen, uint64(3), "the journal filled up several times")
	d.Append("log", []byte("last"))
	require.NoError(t, d.Sync())
	want = append(want, "last")

	d, got := reopen(t, d)
	defer d.Close()
	assert.Equal(t, want, strs(got.Files["log"]))
}

// Recover sees what was synced since Open too, not only what bbolt has absorbed.
func TestRecoverAfterSyncSeesTheJournal(t *testing.T) {
	d := open(t, t.TempDir())
	defer d.Close()
	d.Append("log", []byte("synced"))
	require.NoError(t, d.Sync())
	assert.Equal(t, recs("synced"), mustRecover(t, d).Files["log"])
}

// Whatever bytes a journal holds, parsing them never panics, and the batches it accepts
// encode back to frames that parse to the same ops.
func FuzzJournalFrames(f *testing.F) {
	two := append(encodeBatch(7, []op{{file: "log", value: encode([]byte("x"))}, {file: "gone", remove: true}}),
		encodeBatch(7, []op{{file: "", value: encode(nil)}})...)
	f.Add(two)
	f.Add(two[:len(two)-3])
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := readFrames(7, bytes.NewReader(data), 0, int64(len(data)))
		if err != nil || len(ops) == 0 {
			return
		}
		frame := encodeBatch(7, ops)
		again, err := readFrames(7, bytes.NewReader(frame), 0, int64(len(frame)))
		require.NoError(t, err)
		require.Equal(t, ops, again)
	})
}
