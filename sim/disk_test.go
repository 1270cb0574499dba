package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func recs(strs ...string) [][]byte {
	out := make([][]byte, len(strs))
	for i, s := range strs {
		out[i] = []byte(s)
	}
	return out
}

func TestDiskSyncedWritesSurviveCrash(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		r := newStream(seed, 1)
		d := newDisk()
		d.append("log", []byte("a"))
		d.append("log", []byte("b"))
		d.flush(d.mark())
		d.append("log", []byte("c"))
		d.append("log", []byte("d"))
		d.crash(r)
		got := d.recover()
		require.Empty(t, got.Corrupt, "seed %d", seed)
		files := got.Files["log"]
		require.GreaterOrEqual(t, len(files), 2, "seed %d: synced records lost", seed)
		assert.Equal(t, recs("a", "b", "c", "d")[:len(files)], files, "seed %d: survivors must be a prefix", seed)
	}
}

func TestDiskCrashKeepsVariedPrefixesAndTears(t *testing.T) {
	kept := map[int]bool{}
	torn := 0
	for seed := uint64(0); seed < 200; seed++ {
		d := newDisk()
		for i := range 4 {
			d.append("log", []byte(fmt.Sprintf("record-%d", i)))
		}
		d.crash(newStream(seed, 1))
		got := d.recover()
		kept[len(got.Files["log"])] = true
		torn += got.Torn
		// After recovery the torn tail is gone: a new append is readable.
		d.append("log", []byte("after"))
		d.flush(d.mark())
		again := d.recover()
		require.Empty(t, again.Corrupt)
		require.Equal(t, "after", string(again.Files["log"][len(again.Files["log"])-1]))
	}
	assert.Len(t, kept, 5, "crash should keep every prefix length 0..4 for some seed")
	assert.Positive(t, torn, "some crashes should tear the last surviving write")
}

func TestDiskBitrotIsDetectedNeverServed(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		r := newStream(seed, 2)
		d := newDisk()
		for i := range 5 {
			d.append("log", []byte(fmt.Sprintf("value-%d", i)))
		}
		d.flush(d.mark())
		_, ok := d.rot(r)
		require.True(t, ok)
		got := d.recover()
		require.Len(t, got.Corrupt, 1, "seed %d: the flipped bit must be reported", seed)
		bad := got.Corrupt[0].Index
		assert.Equal(t, len(got.Files["log"]), bad)
		assert.Equal(t, recs("value-0", "value-1", "value-2", "value-3", "value-4")[:bad], append([][]byte{}, got.Files["log"]...),
			"seed %d: only the records before the corrupt one are served", seed)
	}
}

func TestDiskRemoveIsDurableOnlyAfterSync(t *testing.T) {
	d := newDisk()
	d.append("a", []byte("x"))
	d.flush(d.mark())
	d.remove("a")
	d.pending = d.pending[:0] // a crash that keeps none of the pending writes
	assert.Contains(t, d.recover().Files, "a")
	d.remove("a")
	d.flush(d.mark())
	assert.NotContains(t, d.recover().Files, "a")
}

func TestDiskFailedSyncNeverLeavesAHole(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		d := newDisk()
		d.append("log", []byte("a"))
		mark := d.mark()
		d.append("log", []byte("b"))
		d.failSync(mark, newStream(seed, 3))
		require.Empty(t, d.pending, "the cache is gone, later writes included")
		d.append("log", []byte("c"))
		d.flush(d.mark())
		got := d.recover()
		require.Empty(t, got.Corrupt, "seed %d: a failed sync must not look like bit-rot", seed)
		assert.Contains(t, [][][]byte{recs("c"), recs("a", "c"), recs("a", "b", "c")}, got.Files["log"], "seed %d", seed)
	}
}
