// Package elle checks transactional histories of the list-append model the way Jepsen's
// Elle does (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
// Observations", VLDB 2020): it infers, from what the reads returned, the order in which
// every key's versions were installed, builds the dependency graph between transactions,
// and reports the cycles in it, and the anomalies visible without a cycle.
//
// The model fits a black-box test because it makes every read a witness: each key holds a
// list, transactions append unique elements to lists and read whole lists. A read of
// [1 2 3] says that 1, 2 and 3 were appended in that order and by whom, so the version
// order of a key is the longest list any read returned, and every other read must be a
// prefix of it. A register's reads could not say that much.
//
// # History format
//
// Every operation has f "txn" and a value listing its micro-ops, each [f, key, value]:
// ["append", k, v] appends v to the list at k, ["r", k, list] read the list at k (null in
// the invocation, the list read in an ok completion; null there means an absent key,
// which is the empty list). Elements are strings; history files may write them as JSON
// numbers, which package history reads as their decimal text:
//
//	{"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]],"time":10}
//	{"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[1,2]]],"time":20}
//
// An element must be appended to a key at most once in the whole history; Check refuses a
// history that breaks that, since nothing could be inferred from its reads.
//
// # Dependencies
//
// For each key, with its version order inferred:
//   - ww: T1 appended an element and T2 the next one;
//   - wr: T2 read a list whose last element T1 appended;
//   - rw: T1 read a list and T2 appended the next element (an anti-dependency);
//   - rt: T1 completed before T2 was invoked (real time).
//
// An element an ok transaction appended but no read saw came after everything anyone
// read, so its writer follows every reader of the key (rw) and the writer of the last
// element seen (ww). Failed transactions took no effect and have no edges; info
// transactions may or may not have committed, so their appends count only where a read
// saw them, and their reads, never seen, count not at all. Real-time edges leave info
// transactions only as targets: they never completed.
//
// # Anomalies
//
// Cycles, each found as a shortest cycle (breadth-first) inside a strongly connected
// component (Tarjan), so the report is the same on every run:
//   - G0: only ww edges (write cycle);
//   - G1c: ww and wr edges, at least one wr (circular information flow);
//   - G-single: exactly one rw edge, the rest ww or wr (read skew); Elle calls the
//     item-only form G-single-item;
//   - G2: two or more rw edges (write skew and friends); Elle's G2-item;
//   - G0-realtime, G1c-realtime, G-single-realtime, G2-realtime: the same with real-time
//     edges too, at least one of them; reported for a component only where the data
//     class itself has no cycle there. They break strict serializability alone.
//
// The searches are bounded (so a huge component of a badly broken history cannot stall
// the check); a component they could not finish is still reported, with a cycle walked
// along its edges and named by the kinds of those edges.
//
// Without a cycle:
//   - G1a (aborted read): a read saw an element of a failed transaction;
//   - G1b (intermediate read): a read ended in an element whose transaction appended to
//     the key again later, so it saw a state that transaction never committed;
//   - internal: a read disagrees with its own transaction's earlier micro-ops;
//   - incompatible-order: two reads of a key are not prefixes of one list;
//   - duplicate-elements: a read held an element twice;
//   - garbage: a read held an element no transaction appended.
//
// A history is serializable when it has none of these but the realtime cycles, and
// strict serializable when it has none at all.
//
// # Use
//
//	events, err := history.Read(f)
//	...
//	res, err := elle.Check(events)
//	...
//	if !res.StrictSerializable {
//		fmt.Println(res.Report(10)) // G-single: T3 (process 2: [append x 4] [r y [1]]) -rw(y)-> T5 ...
//	}
//
// Transactions are named T<n>, n the position of their invocation among the events (the
// line of a history file without blank lines).
//
// The package is deterministic (no clock, randomness, goroutines or OS access, map
// iteration never reaching the result), so a simulated workload may check its own
// history with it.
package elle
