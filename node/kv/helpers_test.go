package kv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func b(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func putCmd(k, v string) Command { return Command{Put: &PutRequest{Key: b(k), Value: b(v)}} }

func delCmd(k, end string) Command {
	return Command{DeleteRange: &DeleteRangeRequest{Key: b(k), RangeEnd: b(end)}}
}

// mustApply applies cmd and fails the test on an error result.
func mustApply(t testing.TB, s *Store, cmd Command) Result {
	t.Helper()
	res := s.Apply(cmd)
	require.NoError(t, res.Err)
	return res
}

func mustPut(t testing.TB, s *Store, k, v string) Result { return mustApply(t, s, putCmd(k, v)) }

func rangeKeys(t testing.TB, s *Store, r RangeRequest) []string {
	t.Helper()
	resp, err := s.Range(r)
	require.NoError(t, err)
	return kvKeys(resp.KVs)
}

func kvKeys(kvs []KeyValue) []string {
	out := []string{}
	for _, kv := range kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

func getKV(t testing.TB, s *Store, k string) *KeyValue {
	t.Helper()
	resp, err := s.Range(RangeRequest{Key: b(k)})
	require.NoError(t, err)
	if len(resp.KVs) == 0 {
		return nil
	}
	return &resp.KVs[0]
}
