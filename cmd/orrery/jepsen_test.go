package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJepsenRunRejectsBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--workload", "nope"},
		{"--nemesis", "no-such-nemesis"},
		{"--nodes", "0"},
		{"--rate", "0"},
		{"extra-arg"},
	} {
		code, _, errOut := orrery(t, append([]string{"jepsen", "run"}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "jepsen run", "%v", args)
	}
}
