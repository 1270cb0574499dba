// Package history reads, writes and builds operation histories: the one
// format shared by the deterministic simulator, the Jepsen harness and
// `orrery check`.
//
// A history is JSON Lines, one event per line, in the order the events
// happened:
//
//	{"process":3,"type":"invoke","f":"put","key":"k1","value":"v5","time":1200}
//	{"process":4,"type":"invoke","f":"get","key":"k1","value":null,"time":1300}
//	{"process":3,"type":"ok","f":"put","key":"k1","value":"v5","time":2100}
//	{"process":4,"type":"ok","f":"get","key":"k1","value":"v5","time":2200}
//	{"process":5,"type":"invoke","f":"cas","key":"k1","value":["v5","v6"],"time":2300}
//	{"process":5,"type":"info","f":"cas","key":"k1","value":["v5","v6"],"time":9000}
//
// A process is a logical client with at most one operation open at a time.
// Each operation is an [Invoke] followed by exactly one completion: [OK] (it
// happened), [Fail] (it definitely did not happen) or [Info] (unknown; the
// process never invokes again). An invoke that is never completed counts as
// [Info]. Times are non-negative nanoseconds and never decrease.
//
// Values are null, strings or lists of values (a cas carries
// [expected, new]). Readers also accept JSON numbers and turn them into their
// decimal text, so 5, 5.0 and 5e0 all read as "5". Fields other than the
// standard ones (process, type, f, key, value, time) are kept in
// [Event.Extra] and written back after the standard ones, sorted by name.
//
// The package is pure and deterministic — no goroutines, clock, randomness
// or OS access — because the deterministic simulator records its histories
// with a [Recorder]:
//
//	var rec history.Recorder
//	rec.Invoke(3, "put", "k1", history.Str("v5"), 1200)
//	rec.Complete(3, history.OK, history.Str("v5"), 2100)
//	err := history.Write(w, rec.Events())
//
// [Read] checks the protocol above and names the offending line; [Pair]
// turns events into operations with a call and a return time, the shape a
// linearizability checker wants.
package history
