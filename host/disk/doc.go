// Package disk is the real host's disk for components: the Append, Remove and Sync
// effects and the Recovery of component.Start, kept in a journal and one bbolt database per
// node, so that a component that runs in the simulator (node/rsm's raft WAL, the
// register's files) runs unchanged on a machine.
//
//	DIR/LOCK        flock held by the process that has the directory open, with its pid
//	DIR/orrery.wal  the journal: each Sync's batch as one checksummed frame (journal.go)
//	DIR/orrery.db   bbolt: one bucket per file, one key per record
//
// # Why bbolt
//
// The contract asks for named, append-only files of checksummed records that survive a
// crash exactly as far as they were synced. Plain files would need our own framing, torn
// write detection, directory fsyncs on create and remove, and a rename dance for each of
// them. bbolt already gives atomic, durable transactions over a single file, is pure Go,
// and is in go.mod for the image store. Its copy-on-write B+tree means a crash leaves the
// last committed transaction, whole: there are no torn records to tell apart from rot.
//
// # Why a journal in front of it
//
// A bbolt commit is two fsyncs (the pages, then the meta page that points at them): 1.6 ms
// where one fdatasync takes 0.45 ms, on every Sync, which is every raft Ready. So a Sync
// writes its batch as one frame to a preallocated journal file and fdatasyncs that, as
// etcd's WAL does, and bbolt absorbs the journal's batches many at a time: when the journal
// is full (64 MiB) and when the directory is opened. BenchmarkSync against
// BenchmarkFdatasyncBaseline measures what a Sync costs over the bare fdatasync.
//
// # One batch per Sync
//
// Append and Remove only buffer. Sync writes everything buffered as one frame, in issue
// order. Many appends share one fdatasync (group commit), and a Sync is atomic: after a
// crash either all of its writes are there or none is (a frame is checked whole). That is
// stronger than the contract, which only promises that synced writes survive and that
// writes reach the disk in issue order (the simulator's disk may keep any prefix of the
// unsynced writes, and tear the last). A Remove followed by appends to the same name in
// one batch drops the file and starts a fresh one.
//
// bbolt records the generation of the last journal it absorbed in the same transaction as
// its batches, so a crash between that commit and the journal's reset does not apply a
// batch twice. A frame that fails its checksum with nothing valid after it was being
// written when the process died; its Sync never returned, and it is dropped. One with
// valid frames after it is rot, and Open refuses the directory with ErrFormat.
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
// Torn is always 0: batches are atomic, in the journal and in bbolt. Damage that breaks bbolt's own structure is
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
// checks that every Sync it reported is recovered. That exercises the journal and bbolt
// under process death, not fsync under power loss: the page cache survives a SIGKILL.
package disk
