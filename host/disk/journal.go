package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// The journal is where a Sync's batch becomes durable: one frame appended to a
// preallocated file and one fdatasync, instead of a bbolt commit (two fsyncs: the pages,
// then the meta page). Batches are applied to bbolt later, many at once, when the journal
// is full and when the directory is opened; bbolt remembers the generation of the last
// journal it absorbed, so a crash between that commit and the journal's reset does not
// apply a batch twice.
//
//	header:  magic (8 bytes) | generation (8, big-endian)
//	frame:   length of payload (4) | CRC-32C of generation and payload (4) | payload
//	payload: one Sync's ops, each: kind (1: append, 2: remove) | name length (4) | name |
//	         value length (4) | value (the record's CRC-32C and the record, as in bbolt)
//
// The file is preallocated and zeroed after the header, so a zero length ends the frames.
// A frame that fails its checksum is a torn tail when nothing valid follows it (its
// fdatasync never returned, so nobody was told it was durable) and damage otherwise.
const (
	journalName   = "orrery.wal"
	journalMagic  = "orrywal1"
	journalHeader = 16
	frameHeader   = 8

	opAppend = 1
	opRemove = 2
)

// journalSize is the preallocated size: a batch that does not fit makes the journal's
// content go into bbolt first, and a batch larger than the whole journal (a snapshot of a
// big store) goes to bbolt directly. A variable so that tests can fill it quickly.
var journalSize int64 = 64 << 20

// metaBucket holds the Disk's own bookkeeping; its name cannot collide with a file's
// bucket, which always starts with filePrefix.
var (
	metaBucket = []byte("m:")
	metaGen    = []byte("journal-generation")
)

type journal struct {
	f   *os.File
	gen uint64
	off int64 // end of the last frame
	// ops are the ops of every frame since the last reset, in order: what the next
	// checkpoint writes to bbolt.
	ops []op
}

// openJournal opens (or creates) the journal, applies whatever batches it holds that
// bbolt has not absorbed yet, and resets it to an empty journal of the next generation.
func openJournal(dir string, db *bolt.DB) (*journal, error) {
	path := filepath.Join(dir, journalName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("disk: open journal: %w", err)
	}
	j := &journal{f: f}
	applied, err := appliedGen(db)
	if err == nil {
		err = j.replay(db, applied)
	}
	if err == nil {
		err = j.reset(max(j.gen, applied) + 1)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func appliedGen(db *bolt.DB) (uint64, error) {
	var gen uint64
	err := db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(metaBucket); b != nil {
			if v := b.Get(metaGen); len(v) == 8 {
				gen = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return gen, err
}

// replay reads the journal's frames and, unless bbolt has absorbed this generation
// already, writes them to bbolt. It reads frame by frame up to the end of the last one,
// not the whole preallocated file.
func (j *journal) replay(db *bolt.DB, applied uint64) error {
	fi, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("disk: read journal: %w", err)
	}
	var h [journalHeader]byte
	if fi.Size() < journalHeader {
		if fi.Size() == 0 {
			return nil // a new directory, or a crash before the first reset finished
		}
		return fmt.Errorf("%w: %s has no journal header", ErrFormat, j.f.Name())
	}
	if _, err := j.f.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("disk: read journal: %w", err)
	}
	if string(h[:8]) != journalMagic {
		if h != [journalHeader]byte{} {
			return fmt.Errorf("%w: %s has no journal header", ErrFormat, j.f.Name())
		}
		return nil // preallocated, header never written: nothing was journaled
	}
	j.gen = binary.BigEndian.Uint64(h[8:])
	ops, err := readFrames(j.gen, j.f, journalHeader, fi.Size())
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFormat, j.f.Name(), err)
	}
	if j.gen <= applied || len(ops) == 0 {
		return nil
	}
	return absorb(db, j.gen, ops)
}

// readFrames decodes the frames of one generation that r holds from offset off to size,
// up to the first zero length or torn frame.
func readFrames(gen uint64, r io.ReaderAt, off, size int64) ([]op, error) {
	var ops []op
	var h [frameHeader]byte
	for off+frameHeader <= size {
		if _, err := r.ReadAt(h[:], off); err != nil {
			return nil, fmt.Errorf("read journal frame at offset %d: %w", off, err)
		}
		n := int64(binary.BigEndian.Uint32(h[:]))
		if n == 0 {
			break
		}
		var payload []byte
		if off+frameHeader+n <= size {
			payload = make([]byte, n)
			if _, err := r.ReadAt(payload, off+frameHeader); err != nil {
				return nil, fmt.Errorf("read journal frame at offset %d: %w", off, err)
			}
		}
		if payload == nil || frameSum(gen, payload) != binary.BigEndian.Uint32(h[4:]) {
			rest := make([]byte, size-off-frameHeader)
			if _, err := r.ReadAt(rest, off+frameHeader); err != nil {
				return nil, fmt.Errorf("read journal after offset %d: %w", off, err)
			}
			if validFrameAfter(gen, rest) {
				return nil, fmt.Errorf("journal frame at offset %d is damaged and later frames are not", off)
			}
			break // torn: its sync never returned
		}
		batch, err := decodeBatch(payload)
		if err != nil {
			return nil, fmt.Errorf("journal frame at offset %d: %w", off, err)
		}
		ops = append(ops, batch...)
		off += frameHeader + n
	}
	return ops, nil
}

// validFrameAfter reports whether a well-formed frame starts anywhere in data: proof that
// the damage before it is rot, not a write cut short.
func validFrameAfter(gen uint64, data []byte) bool {
	for i := 0; i+frameHeader <= len(data); i++ {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n == 0 || i+frameHeader+n > len(data) {
			continue
		}
		if frameSum(gen, data[i+frameHeader:i+frameHeader+n]) == binary.BigEndian.Uint32(data[i+4:]) {
			return true
		}
	}
	return false
}

// frameSum covers the generation too, so that a frame left over from an earlier
// generation can never pass for one of this.
func frameSum(gen uint64, payload []byte) uint32 {
	var g [8]byte
	binary.BigEndian.PutUint64(g[:], gen)
	return crc32.Update(crc32.Checksum(g[:], castagnoli), castagnoli, payload)
}

func encodeBatch(gen uint64, batch []op) []byte {
	n := frameHeader
	for _, o := range batch {
		n += 1 + 4 + len(o.file) + 4 + len(o.value)
	}
	b := make([]byte, frameHeader, n)
	for _, o := range batch {
		kind := byte(opAppend)
		if o.remove {
			kind = opRemove
		}
		b = append(b, kind)
		b = binary.BigEndian.AppendUint32(b, uint32(len(o.file)))
		b = append(b, o.file...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(o.value)))
		b = append(b, o.value...)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-frameHeader))
	binary.BigEndian.PutUint32(b[4:], frameSum(gen, b[frameHeader:]))
	return b
}

var errBatch = errors.New("malformed batch")

func decodeBatch(p []byte) ([]op, error) {
	var ops []op
	for len(p) > 0 {
		if len(p) < 5 || p[0] != opAppend && p[0] != opRemove {
			return nil, errBatch
		}
		o := op{remove: p[0] == opRemove}
		n := int(binary.BigEndian.Uint32(p[1:]))
		p = p[5:]
		if n > len(p) || len(p)-n < 4 {
			return nil, errBatch
		}
		o.file, p = string(p[:n]), p[n:]
		n = int(binary.BigEndian.Uint32(p))
		p = p[4:]
		if n > len(p) {
			return nil, errBatch
		}
		o.value, p = p[:n:n], p[n:] // the caller's payload is its own, read for this frame
		ops = append(ops, o)
	}
	return ops, nil
}

// write makes a batch durable: into the journal when it fits (after a checkpoint if the
// journal is full), else, with the journal's content, straight into bbolt.
func (j *journal) write(db *bolt.DB, batch []op) error {
	frame := encodeBatch(j.gen, batch)
	if j.off+int64(len(frame)) > journalSize {
		if journalHeader+int64(len(frame)) > journalSize {
			if err := absorb(db, j.gen, append(j.ops, batch...)); err != nil {
				return err
			}
			return j.reset(j.gen + 1)
		}
		if err := j.checkpoint(db); err != nil {
			return err
		}
		frame = encodeBatch(j.gen, batch)
	}
	if _, err := j.f.WriteAt(frame, j.off); err != nil {
		return fmt.Errorf("journal write: %w", err)
	}
	if err := fdatasync(j.f); err != nil {
		return fmt.Errorf("journal sync: %w", err)
	}
	j.off += int64(len(frame))
	j.ops = append(j.ops, batch...)
	return nil
}

// checkpoint writes the journal's batches to bbolt and starts the next generation.
func (j *journal) checkpoint(db *bolt.DB) error {
	if len(j.ops) > 0 {
		if err := absorb(db, j.gen, j.ops); err != nil {
			return err
		}
	}
	return j.reset(j.gen + 1)
}

// absorb applies ops to bbolt in one transaction that also records gen as absorbed.
func absorb(db *bolt.DB, gen uint64, ops []op) error {
	return db.Update(func(tx *bolt.Tx) error {
		if err := apply(tx, ops); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		return b.Put(metaGen, binary.BigEndian.AppendUint64(nil, gen))
	})
}

// reset empties the journal for generation gen: zeroed, preallocated, new header, synced.
// The old frames are gone before the header names the new generation, and they would not
// pass for its frames anyway (frameSum covers the generation).
func (j *journal) reset(gen uint64) error {
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("journal reset: %w", err)
	}
	if err := syscall.Fallocate(int(j.f.Fd()), 0, 0, journalSize); err != nil {
		// Filesystems without fallocate (tmpfs has it; some FUSE ones do not) get a
		// sparse file of the same size: zeros all the same, only the size update costs.
		if err := j.f.Truncate(journalSize); err != nil {
			return fmt.Errorf("journal reset: %w", err)
		}
	}
	var h [journalHeader]byte
	copy(h[:], journalMagic)
	binary.BigEndian.PutUint64(h[8:], gen)
	if _, err := j.f.WriteAt(h[:], 0); err != nil {
		return fmt.Errorf("journal reset: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal reset: %w", err)
	}
	j.gen, j.off, j.ops = gen, journalHeader, nil
	return nil
}

func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
