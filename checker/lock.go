package checker

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/orrery/orrery/checker/history"
)

// LockModel is the name `orrery check --model lock` knows: histories of the lock
// workload, checked by CheckLock rather than by porcupine.
const LockModel = "lock"

// LockResult is CheckLock's verdict: Violation is "" when the history keeps the lock's
// promises.
type LockResult struct {
	Acquired, Writes int // ok acquisitions (cycles included) and ok fenced writes
	Violation        string
}

// CheckLock checks a lock history (operations acquire, write, release and cycle, whose
// ok values are the fencing token as a string) against what a fenced lease-backed mutex
// guarantees from the history alone:
//   - every ok write carries a token that an ok acquire returned before the write began;
//   - fencing in real time: an ok write that completed before another began has a token
//     no greater than the other's;
//   - exclusion: a holder whose release was ok (its key was still in place, so its lease
//     had not expired) began releasing before any holder of a greater token completed its
//     acquire. A cycle (acquire, write, release in one operation) counts as acquired by
//     its completion and as released from its invocation.
//
// Releases that failed (the lock was already lost) and indefinite operations promise
// nothing, and nothing is concluded from them.
func CheckLock(events []history.Event) (LockResult, error) {
	ops, err := history.Pair(events)
	if err != nil {
		return LockResult{}, err
	}
	acquired := map[int64]int64{} // token -> latest time its acquisition completed
	released := map[int64]int64{} // token -> earliest time an ok release of it began
	var writes []lockWrite
	for _, op := range ops {
		if op.Outcome != history.OK {
			continue
		}
		tok, err := lockToken(op)
		if err != nil {
			return LockResult{}, err
		}
		switch op.F {
		case "acquire":
			acquired[tok] = op.Return
		case "cycle":
			acquired[tok], released[tok] = op.Return, op.Call
		case "release":
			released[tok] = op.Call
		case "write":
			writes = append(writes, lockWrite{token: tok, call: op.Call, ret: op.Return})
		default:
			return LockResult{}, fmt.Errorf("%w: %q in a lock history (want acquire, write, release or cycle)", ErrBadOp, op.F)
		}
	}
	res := LockResult{Acquired: len(acquired), Writes: len(writes)}
	res.Violation = firstOf(
		func() string { return lockWritesAcquired(writes, acquired) },
		func() string { return lockFencing(writes) },
		func() string { return lockExclusion(acquired, released) },
	)
	return res, nil
}

type lockWrite struct {
	token     int64
	call, ret int64
}

func lockToken(op history.Op) (int64, error) {
	s, ok := op.Output.Str()
	if !ok {
		return 0, fmt.Errorf("%w: %s by process %d completed with %s, want a token string", ErrBadOp, op.F, op.Process, op.Output)
	}
	tok, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s by process %d: token %q: %v", ErrBadOp, op.F, op.Process, s, err)
	}
	return tok, nil
}

func firstOf(checks ...func() string) string {
	for _, c := range checks {
		if v := c(); v != "" {
			return v
		}
	}
	return ""
}

func lockWritesAcquired(writes []lockWrite, acquired map[int64]int64) string {
	for _, w := range writes {
		if at, ok := acquired[w.token]; !ok || at > w.call {
			return fmt.Sprintf("a write with token %d began at %d before any acquire returned that token", w.token, w.call)
		}
	}
	return ""
}

// lockFencing sweeps the writes in invocation order, keeping the greatest token among
// the writes completed before each one began.
func lockFencing(writes []lockWrite) string {
	byCall := slices.Clone(writes)
	slices.SortFunc(byCall, func(a, b lockWrite) int { return cmp.Compare(a.call, b.call) })
	byRet := slices.Clone(writes)
	slices.SortFunc(byRet, func(a, b lockWrite) int { return cmp.Compare(a.ret, b.ret) })
	var best *lockWrite
	i := 0
	for _, w := range byCall {
		for ; i < len(byRet) && byRet[i].ret < w.call; i++ {
			if best == nil || byRet[i].token > best.token {
				best = &byRet[i]
			}
		}
		if best != nil && best.token > w.token {
			return fmt.Sprintf("fencing: a write with token %d began at %d, after a write with token %d completed at %d",
				w.token, w.call, best.token, best.ret)
		}
	}
	return ""
}

func lockExclusion(acquired, released map[int64]int64) string {
	tokens := make([]int64, 0, len(acquired))
	for t := range acquired {
		tokens = append(tokens, t)
	}
	slices.Sort(tokens)
	for i, a := range tokens {
		rel, ok := released[a]
		if !ok {
			continue
		}
		for _, b := range tokens[i+1:] {
			if rel > acquired[b] {
				return fmt.Sprintf("exclusion: token %d was acquired by %d, while the holder of token %d kept the lock until it began releasing at %d",
					b, acquired[b], a, rel)
			}
		}
	}
	return ""
}
