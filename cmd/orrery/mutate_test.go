package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --workloads node/raft=raftlog,all arrives split at the comma; the parts are rejoined.
func TestParseWorkloadFlags(t *testing.T) {
	got, err := parseWorkloadFlags([]string{"node/raft=raftlog", "all", "./node/kv/=kv"})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"node/raft": {"raftlog", "all"}, "node/kv": {"kv"}}, got)
	_, err = parseWorkloadFlags([]string{"all", "node/kv=kv"})
	assert.ErrorContains(t, err, "want PKG=W1,W2")
}
