package elle

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

// Whatever JSON value comes in, Decode either refuses it or returns micro-ops that
// encode back to the same value.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`[["append","x",1],["r","y",[1,2]]]`))
	f.Add([]byte(`[["r","x",null]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v history.Value
		if v.UnmarshalJSON(data) != nil {
			return
		}
		mops, err := Decode(v)
		if err != nil {
			require.ErrorIs(t, err, ErrBadTxn)
			return
		}
		back := Encode(mops)
		assert.True(t, back.Equal(v), "%s encodes back as %s", v, back)
		again, err := Decode(back)
		require.NoError(t, err)
		assert.Equal(t, mops, again)
	})
}

// Check never panics, answers the same twice, and its verdicts agree with its anomalies.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"process":0,"type":"invoke","f":"txn","value":[["append","x",1]],"time":1}
{"process":0,"type":"ok","f":"txn","value":[["append","x",1]],"time":2}
{"process":1,"type":"invoke","f":"txn","value":[["r","x",null]],"time":3}
{"process":1,"type":"ok","f":"txn","value":[["r","x",[]]],"time":4}
`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		res, err := Check(events)
		if err != nil {
			return
		}
		again, err := Check(events)
		require.NoError(t, err)
		assert.Equal(t, res, again)
		assert.Equal(t, len(res.Anomalies) == 0, res.StrictSerializable)
		assert.True(t, res.Serializable || !res.StrictSerializable)
		for _, a := range res.Anomalies {
			assert.NotEmpty(t, a.Txns, a)
		}
		_ = res.Report(3)
	})
}
