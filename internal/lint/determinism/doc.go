// Package determinism defines an analyzer that enforces Orrery's determinism contract.
//
// Deterministic packages run inside a seeded simulator, where a run must be a pure
// function of (seed, options, code). They are plain state machines: the driver calls in
// with inputs (a message, a Tick, a completed disk write) and gets effects back as values.
// The list of deterministic packages is Deterministic, minus Exempt; it is the only such
// list in the repository. Packages outside it are not checked at all, so the analyzer can
// run over the whole module:
//
//	go run ./internal/lint/cmd/detlint ./...
//
// # What is flagged
//
// In the non-test, non-generated files of a deterministic package:
//
//   - Wall clock and sleeping: time.Now, Since, Until, Sleep, After, AfterFunc, Tick,
//     NewTicker, NewTimer, and the context functions that arm timers (WithTimeout,
//     WithDeadline and their Cause forms). Time values, durations and their arithmetic are
//     fine; time arrives as a Tick or as a value passed in by the driver.
//   - Goroutines and channels: go and select statements, channel sends and receives,
//     make(chan T), channel types anywhere in declarations, range over a channel.
//   - Global randomness: importing math/rand (use math/rand/v2 with an injected *rand.Rand)
//     and any use of its package-level functions, such as rand.Seed; any package-level
//     function of math/rand/v2 except the constructors New, NewPCG, NewChaCha8 and NewZipf;
//     importing crypto/rand. Methods of a *rand.Rand are fine.
//   - OS access: importing os/..., io/ioutil, syscall, golang.org/x/sys/..., net/... (except
//     the pure value package net/netip), log, log/syslog, plugin, runtime/..., unsafe,
//     sync/... and crypto/rand; calling fmt.Print, Printf or Println; the log/slog functions
//     that use the default logger (slog.Info, slog.Default, slog.SetDefault, ...). An
//     injected *slog.Logger, slog.String and the other attribute constructors are fine, as
//     are fmt.Sprintf, fmt.Errorf and fmt.Fprintf.
//   - Imports of project packages (under -module) that are not themselves deterministic,
//     such as host/tcp: whatever they do would leak in unchecked.
//   - Map iteration order: a range loop over a map (or over a type parameter whose type set
//     holds a map), and any use of maps.Keys, maps.Values or maps.All.
//
// Functions are recognised by the object they resolve to, not by their spelling, so
// renamed imports (import wall "time"), dot imports and method values (f := time.Now) are
// caught too.
//
// # Safe forms of map iteration
//
// Iterating a map is fine when its order cannot reach any output. The analyzer accepts:
//
//	keys := slices.Sorted(maps.Keys(m))   // also maps.Values
//
//	for k := range m {                    // the body is exactly one append of the key
//		keys = append(keys, k)            // (or the value); the caller sorts keys
//	}
//
//	for range m { n++ }                   // binds neither key nor value
//
//	//det:unordered summing is commutative
//	for _, v := range m {
//		total += v
//	}
//
// The //det:unordered directive sits on the line of the loop or on the line before it, and
// also covers a maps.Keys, maps.Values or maps.All call on that line. It must give a
// reason; a directive without one is reported. Use it for loops whose result does not
// depend on order: sums, deleting entries, building another map or set.
//
// # Flags
//
//	-packages  comma-separated patterns of deterministic packages; replaces Deterministic
//	-exempt    comma-separated patterns of exempt packages; replaces Exempt
//	-module    the project's import path (default github.com/orrery/orrery)
//
// A pattern "a/b/..." matches a/b and every package below it; any other pattern matches
// one package.
package determinism
