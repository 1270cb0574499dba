package workload

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/orrery/orrery/checker/history"
	"github.com/orrery/orrery/sim"
)

// checkRaftLog checks a raftlog run:
//   - state machine safety: every node that applies index i applies the same entry there
//     (the "apply" observations of every node and incarnation agree);
//   - durability: every acknowledged append was applied somewhere, at exactly one position;
//   - real-time order: an append acknowledged before another was invoked got a lower
//     position (the log is linearizable).
func checkRaftLog(res sim.Result) error {
	applied, err := appliedEntries(res.Observations)
	if err != nil {
		return err
	}
	payloads := map[string]bool{}
	//det:unordered building a set
	for _, entry := range applied {
		payloads[entryPayload(entry)] = true
	}
	ops, err := history.Pair(res.History)
	if err != nil {
		return err
	}
	var acked []history.Op
	for _, op := range ops {
		if op.Outcome != history.OK {
			continue
		}
		v, _ := op.Input.Str()
		if !payloads[strconv.Quote(v)] {
			return fmt.Errorf("acknowledged append %s (process %d, ok at %d) was never applied by any node", v, op.Process, op.Return)
		}
		acked = append(acked, op)
	}
	return checkPositions(acked)
}

// appliedEntries maps log index to the entry applied there (term and contents), failing on
// disagreement: two nodes applying different entries at one index is the end of raft.
func appliedEntries(obs []sim.Observation) (map[uint64]string, error) {
	applied := map[uint64]string{}
	where := map[uint64]sim.Observation{}
	for _, o := range obs {
		if o.Kind != "apply" {
			continue
		}
		idx, rest, ok := strings.Cut(o.Value, " ")
		i, err := strconv.ParseUint(idx, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("malformed apply observation %q", o.Value)
		}
		if prev, seen := applied[i]; seen && prev != rest {
			p := where[i]
			return nil, fmt.Errorf("index %d applied as [%s] by %s (incarnation %d, at %v) but as [%s] by %s (incarnation %d, at %v)",
				i, prev, p.Node, p.Incarnation, p.At, rest, o.Node, o.Incarnation, o.At)
		}
		applied[i], where[i] = rest, o
	}
	return applied, nil
}

// entryPayload extracts the quoted payload from `t=.. c=.. s=.. "payload" dup=..`.
func entryPayload(s string) string {
	start := strings.IndexByte(s, '"')
	end := strings.LastIndex(s, " dup=")
	if start < 0 || end < start {
		return s
	}
	return s[start:end]
}

// checkPositions verifies that positions are unique and follow real time.
func checkPositions(acked []history.Op) error {
	pos := make([]uint64, len(acked))
	owner := map[uint64]int{}
	for i, op := range acked {
		s, _ := op.Output.Str()
		p, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("append by process %d returned position %q", op.Process, s)
		}
		if j, dup := owner[p]; dup {
			return fmt.Errorf("position %d given to two appends: %s and %s", p, acked[j].Input, op.Input)
		}
		owner[p], pos[i] = i, p
	}
	order := make([]int, len(acked))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(acked[a].Return - acked[b].Return) })
	// Sweep in return order: every op invoked after op a returned must get a higher position.
	for _, b := range order {
		for _, a := range order {
			if acked[a].Return < acked[b].Call && pos[a] >= pos[b] {
				return fmt.Errorf("append %s returned position %d at %d, before append %s was invoked at %d, which got position %d",
					acked[a].Input, pos[a], acked[a].Return, acked[b].Input, acked[b].Call, pos[b])
			}
		}
	}
	return nil
}
