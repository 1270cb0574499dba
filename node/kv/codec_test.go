package kv

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canonical clears the Compare operands the encoding does not carry (only Target's is).
func canonical(c Command) Command {
	if c.Txn != nil {
		canonicalTxn(c.Txn)
	}
	return c
}

func canonicalTxn(t *TxnRequest) {
	for i := range t.Compare {
		c := &t.Compare[i]
		keep := *c
		*c = Compare{Result: c.Result, Target: c.Target, Key: c.Key, RangeEnd: c.RangeEnd}
		switch c.Target {
		case TargetValue:
			c.Value = keep.Value
		case TargetVersion:
			c.Version = keep.Version
		case TargetCreate:
			c.CreateRevision = keep.CreateRevision
		case TargetMod:
			c.ModRevision = keep.ModRevision
		case TargetLease:
			c.Lease = keep.Lease
		}
	}
	for _, ops := range [][]RequestOp{t.Success, t.Failure} {
		for _, op := range ops {
			if op.Txn != nil {
				canonicalTxn(op.Txn)
			}
		}
	}
}

func TestCommandRoundTrip(t *testing.T) {
	g := newGen(7)
	for i := range 2000 {
		c := canonical(g.command(int64(i+2), int64(i/3)))
		got, err := DecodeCommand(c.Encode())
		require.NoError(t, err)
		require.Equal(t, c, got, "command %d", i)
	}
	c := Command{ClientID: 1 << 60, Seq: 3, Put: &PutRequest{Key: b("k"), Value: b("v"), Lease: -5, PrevKV: true, IgnoreLease: true}}
	got, err := DecodeCommand(c.Encode())
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestDecodeCommandErrors(t *testing.T) {
	good := putCmd("key", "value")
	enc := good.Encode()
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"bad version", append([]byte{9}, enc[1:]...), "unknown command version 9"},
		{"unknown tag", []byte{1, 0, 0, 42}, "unknown command tag 42"},
		{"truncated", enc[:len(enc)-4], "overruns"},
		{"truncated varint", []byte{1, 0x80}, "truncated varint"},
		{"trailing", append(append([]byte{}, enc...), 0), "1 trailing bytes"},
		{"bad flags", append(append([]byte{}, enc[:len(enc)-1]...), 0x80), "unknown flag bits"},
		{"huge list", []byte{1, 0, 0, tagExpire, 0xff, 0xff, 0x03}, "overruns"},
		{"bad enum", (&Command{Txn: &TxnRequest{Compare: []Compare{{Key: b("k"), Result: 9}}}}).Encode(), "unknown compare result 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeCommand(tc.in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrMalformed))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDecodeDeepTxn(t *testing.T) {
	inner := &TxnRequest{}
	for range maxTxnDepth + 5 {
		inner = &TxnRequest{Success: []RequestOp{{Txn: inner}}}
	}
	_, err := DecodeCommand((&Command{Txn: inner}).Encode())
	assert.ErrorContains(t, err, "nested deeper")
}

func FuzzDecodeCommand(f *testing.F) {
	g := newGen(11)
	for i := range 20 {
		c := g.command(int64(i+5), 1)
		f.Add(c.Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommand(data)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		again, err := DecodeCommand(c.Encode())
		require.NoError(t, err)
		require.Equal(t, c, again)
		// Whatever decodes must apply without panicking.
		s := New(Config{})
		s.Apply(putCmd("a", "1"))
		s.Apply(c)
	})
}

func TestValidateOperationCount(t *testing.T) {
	assert.ErrorIs(t, (&Command{}).Validate(Config{}), ErrMalformed)
	two := Command{Put: &PutRequest{Key: b("a")}, LeaseRevoke: &LeaseRevokeRequest{ID: 1}}
	assert.ErrorIs(t, two.Validate(Config{}), ErrMalformed)
	assert.Panics(t, func() { New(Config{}).Apply(two) })
	assert.NoError(t, (&Command{LeaseRevoke: &LeaseRevokeRequest{ID: 1}}).Validate(Config{}))
}
