// Package checker decides whether a history of operations on registers or a
// key-value store is linearizable, using porcupine models partitioned per
// key, and explains and draws the result.
//
// Models (see Models):
//
//   - register: per key, get / put / cas on a value that starts as null.
//   - kv: register plus delete, which sets the key back to null, plus two
//     multi-key operations: txn (value [[key, value], ...]) writes every pair
//     at one instant, and mget (value [key, ...]; its completion lists the
//     values read, null for an absent key) reads every key at one instant.
//     A history with either is checked per connected component of the keys
//     that operations touch together, with the whole component as the state;
//     one without them is checked per key.
//
// Outcomes follow package history: fail ops definitely did not happen and
// are dropped; info ops (and invokes that never completed) may take effect
// at any time after their invocation, or never. An info get is dropped — a
// read has no effect and its result was never seen. An info write is given
// a return time after every other event and an output the model accepts
// whatever the write did, so porcupine may place it anywhere from its call
// on, including last, where it has no visible effect. A cas reported ok must
// have found its expected value; an info cas either applied (if the value
// matched where it is placed) or did nothing.
//
// Use:
//
//	events, err := history.Read(f)
//	...
//	res, err := checker.Check("kv", events, checker.Options{
//		Timeout:     time.Minute,
//		Annotations: []checker.Annotation{{Start: 5e9, End: 9e9, Label: "partition {1,2}|{3,4,5}", Tag: "faults"}},
//	})
//	...
//	if res.Verdict == checker.Illegal {
//		fmt.Println(res.Violation) // key "k1": no linearization; ... cannot place: ...
//		res.WriteHTML(out)         // porcupine's visualisation, faults shaded
//	}
package checker
