package workload

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orrery/orrery/sim"
)

func watchObs(node sim.NodeID, lines ...string) []sim.Observation {
	var out []sim.Observation
	for _, l := range lines {
		out = append(out, sim.Observation{Node: node, Kind: "watch", Value: l})
	}
	return out
}

func TestCheckWatches(t *testing.T) {
	good := append(watchObs(5, `2 0 k0 "a"`, `3 1 k0 ""`), watchObs(6, `2 0 k0 "a"`)...)
	assert.NoError(t, checkWatches(sim.Result{Observations: good}))

	gap := watchObs(5, `2 0 k0 "a"`, `4 0 k1 "b"`)
	assert.ErrorContains(t, checkWatches(sim.Result{Observations: gap}), "revisions 3..3 skipped")

	dup := watchObs(5, `2 0 k0 "a"`, `2 0 k0 "a"`)
	assert.ErrorContains(t, checkWatches(sim.Result{Observations: dup}), "out of order or duplicated")

	late := watchObs(5, `3 0 k0 "a"`)
	assert.ErrorContains(t, checkWatches(sim.Result{Observations: late}), "revisions 2..2 skipped", "a watch from the start must begin at revision 2")

	disagree := append(watchObs(5, `2 0 k0 "a"`), watchObs(6, `2 0 k0 "b"`)...)
	assert.ErrorContains(t, checkWatches(sim.Result{Observations: disagree}), "revision 2 seen as")
}
