package fleet

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A unit file either is refused with ErrBadUnit or parses to a unit whose canonical text
// parses back to the same unit: same hash, same constraints.
func FuzzParseUnit(f *testing.F) {
	f.Add("hello@1.service", []byte(hello))
	f.Add("db.service", []byte("[X-Fleet]\nGlobal=true\nMachineMetadata=a=b\n"))
	f.Add("x.service", []byte("[Service]\nExecStart=/bin/echo a \\\n  b\n[X-Fleet]\nConflicts=x*\n"))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		u, err := ParseUnit("f", name, body)
		if err != nil {
			require.ErrorIs(t, err, ErrBadUnit)
			return
		}
		again, err := ParseUnit("f", name, u.Bytes())
		require.NoError(t, err, "the canonical text of a good unit must parse: %q", u.Bytes())
		assert.Equal(t, u.Hash(), again.Hash())
		assert.Equal(t, u.Fleet, again.Fleet)
	})
}
