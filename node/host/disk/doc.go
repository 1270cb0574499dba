// Package disk is the real host's disk for components: the Append, Remove and Sync
// effects and the Recovery of component.Start, kept in one bbolt database per node, so
// that a component that runs in the simulator (node/rsm's raft WAL, the register's files)
// runs unchanged on a machine.
//
//	DIR/LOCK       flock held by the process that has the directory open, with its pid
//	DIR/orrery.db  bbolt: one bucket per file, one key per record
//
// # Why bbolt
//
// The contract asks for named, append-only files of checksummed records that survive a
// crash exactly as far as they were synced. Plain files would need our own framing, torn
// write detection, directory fsyncs on create and remove, and a rename dance for each of
// them. bbolt already gives atomic, durable transactions over a single file, is pure Go,
// and is in go.mod for the image store. Its copy-on-write B+tree means a crash leaves the
// last committed transaction, whole: there are no torn records to tell apart from rot.
// The price is write amplification (each commit rewrites the touched pages and a meta
// page), which group commit pays back.
//
// # Why one transaction per Sync
//
// Append and Remove only buffer. Sync commits everything buffered in one read-write
// transaction, in issue order, and bbolt's commit is the fsync. Many appends share one
// fsync (group commit), and a Sync is atomic: after a crash either all of its writes are
// there or none is. That is stronger than the contract, which only promises that synced
// writes survive and that writes reach the disk in issue order (the simulator's disk may
// keep any prefix of the unsynced writes, and tear the last). A Remove followed by appends
// to the same name in one batch drops the bucket and starts a fresh one.
//
// A failed commit poisons the Disk (see Sync): the component halts on Synced.Err, and the
// restarted process learns from Recover what is really on disk.
//
// # What recovery guarantees
//
// Recover returns, per file, the records of every committed Sync, in append order, each
// one verified against the CRC-32C stored with it. bbolt checks its own meta pages, not
// the data in them; the per-record checksum catches rot inside a value, which is the
// damage the contract's Corrupt is for. The first record that fails (checksum, or a key
// out of sequence) ends its file and is listed in Corrupt with its file and index, so a
// component such as node/rsm refuses to start and the operator learns which file is bad.
// Torn is always 0: bbolt commits are atomic. Damage that breaks bbolt's own structure is
// reported as an error wrapping ErrFormat, naming the database file.
//
// Close does not sync: writes issued after the last Sync are lost, as in a crash.
//
// # Same contract as the simulator
//
// TestConformance states the contract as scripts of effects and restarts, checked against
// a naive model (the state after some prefix of the writes, at least through the last
// Sync). The simulator's disk (sim/disk.go) keeps the same contract; its tests live in
// package sim because that disk is unexported. Beyond the contract this Disk never keeps a
// partial Sync, which the test checks as well.
//
// # Use
//
//	d, err := disk.Open(dataDir, disk.Options{})
//	if err != nil { ... } // errors.Is(err, disk.ErrInUse): another process has the dir
//	defer d.Close()
//	rec, err := d.Recover()
//	effs := comp.Handle(now, component.Start{Disk: rec})
//	for _, e := range effs {
//		switch e := e.(type) {
//		case component.Append:
//			d.Append(e.File, e.Record)
//		case component.Remove:
//			d.Remove(e.File)
//		case component.Sync:
//			err := d.Sync() // may run on another goroutine; later writes join the next commit
//			next = append(next, component.Synced{ID: e.ID, Err: err})
//		}
//	}
//
// The crash test (TestCrashSafety) kills a writer with SIGKILL at random moments and
// checks that every Sync it reported is recovered. That exercises bbolt's atomicity under
// process death, not fsync under power loss: the page cache survives a SIGKILL.
package disk
