package disk

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/node/component"
)

func open(t testing.TB, dir string) *Disk {
	t.Helper()
	d, err := Open(dir, Options{})
	require.NoError(t, err)
	return d
}

func mustRecover(t testing.TB, d *Disk) component.Recovery {
	t.Helper()
	rec, err := d.Recover()
	require.NoError(t, err)
	return rec
}

// reopen closes d without syncing, as a crash would leave it, and opens dir again.
func reopen(t testing.TB, d *Disk) (*Disk, component.Recovery) {
	t.Helper()
	require.NoError(t, d.Close())
	d = open(t, d.Dir())
	t.Cleanup(func() { d.Close() })
	return d, mustRecover(t, d)
}

func recs(strs ...string) [][]byte {
	out := make([][]byte, len(strs))
	for i, s := range strs {
		out[i] = []byte(s)
	}
	return out
}

func strs(rs [][]byte) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
