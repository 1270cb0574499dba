package sim

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
)

// ErrSyncFailed is what a failed fsync reports.
var ErrSyncFailed = errors.New("sim: fsync failed (injected)")

// Record framing: 4-byte length, 4-byte CRC-32C of the payload, payload.
const frameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func frame(rec []byte) []byte {
	b := make([]byte, frameHeader+len(rec))
	binary.LittleEndian.PutUint32(b, uint32(len(rec)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(rec, castagnoli))
	copy(b[frameHeader:], rec)
	return b
}

// diskOp is a write not yet known to be durable.
type diskOp struct {
	file   string
	data   []byte // framed record; nil for a remove
	remove bool
}

// disk is one node's storage: durable bytes per file plus the ordered list of writes issued
// since the last sync. Writes reach the durable image in issue order, as on a journaling file
// system with ordered data; a crash keeps a seeded prefix of the pending writes and may tear
// the last one it keeps.
type disk struct {
	files   map[string][]byte
	pending []diskOp
	synced  int // writes issued before the last completed sync, counted from the start
	issued  int
}

func newDisk() *disk { return &disk{files: map[string][]byte{}} }

func (d *disk) append(file string, rec []byte) {
	d.pending = append(d.pending, diskOp{file: file, data: frame(rec)})
	d.issued++
}

func (d *disk) remove(file string) {
	d.pending = append(d.pending, diskOp{file: file, remove: true})
	d.issued++
}

// size is what the disk holds: its durable files, with pending appends counted and pending
// removes not (a file that is being removed still takes its space until the sync).
func (d *disk) size() int {
	n := 0
	//det:unordered summing sizes
	for _, b := range d.files {
		n += len(b)
	}
	for _, op := range d.pending {
		n += len(op.data)
	}
	return n
}

// mark returns the write count a sync issued now covers.
func (d *disk) mark() int { return d.issued }

// flush makes every write up to mark durable.
func (d *disk) flush(mark int) {
	n := mark - (d.issued - len(d.pending))
	if n <= 0 {
		return
	}
	for _, op := range d.pending[:n] {
		d.apply(op, len(op.data))
	}
	d.pending = slices.Delete(d.pending, 0, n)
}

func (d *disk) apply(op diskOp, keep int) {
	if op.remove {
		delete(d.files, op.file)
		return
	}
	d.files[op.file] = append(d.files[op.file], op.data[:keep]...)
}

// crash loses the page cache: a random prefix of the pending writes survives, and the last
// surviving append may be torn (only part of its bytes reach the platter).
func (d *disk) crash(r *rand.Rand) {
	d.lose(len(d.pending), r, true)
	d.issued = 0
}

// failSync handles a failed fsync: a random prefix of the pending writes made it to disk
// (whole: tearing is what power loss does, not a write-back error), and the page cache lost the rest, including writes issued after
// the sync. Writes reach the disk in issue order, so a failure never leaves a hole with
// later data after it: a checksummed log could not tell such a hole (or a torn record
// followed by good ones) from bit-rot of data it had synced, and a fault that a correct
// component cannot diagnose would only measure luck.
func (d *disk) failSync(mark int, r *rand.Rand) {
	if n := mark - (d.issued - len(d.pending)); n > 0 {
		d.lose(len(d.pending), r, false)
	}
}

// lose settles the first n pending writes: a seeded prefix reaches the disk, the last of it
// possibly torn when tear is set, and the rest vanish.
func (d *disk) lose(n int, r *rand.Rand, tear bool) {
	keep := r.IntN(n + 1)
	for i, op := range d.pending[:keep] {
		size := len(op.data)
		if tear && i == keep-1 && !op.remove && r.IntN(3) == 0 {
			size = r.IntN(len(op.data))
		}
		d.apply(op, size)
	}
	d.pending = slices.Delete(d.pending, 0, n)
}

// rot flips one bit in the payload of one synced record that has another record after it.
// That is the corruption a checksummed log can tell apart from a torn final write; real
// systems face the ambiguous cases too, but a fault the component cannot possibly detect
// would only measure luck. It returns the file hit, or false when no record qualifies.
func (d *disk) rot(r *rand.Rand) (string, bool) {
	type spot struct {
		file     string
		off, len int
	}
	var spots []spot
	for _, name := range d.names() {
		b, off := d.files[name], 0
		for off+frameHeader <= len(b) {
			n := int(binary.LittleEndian.Uint32(b[off:]))
			end := off + frameHeader + n
			if n == 0 || end >= len(b) {
				break // empty, or the final record: not a candidate
			}
			spots = append(spots, spot{name, off + frameHeader, n})
			off = end
		}
	}
	if len(spots) == 0 {
		return "", false
	}
	s := spots[r.IntN(len(spots))]
	d.files[s.file][s.off+r.IntN(s.len)] ^= 1 << uint(r.IntN(8))
	return s.file, true
}

func (d *disk) names() []string {
	names := make([]string, 0, len(d.files))
	for n := range d.files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// recover parses every file, verifying each record.
func (d *disk) recover() Recovery {
	rec := Recovery{Files: map[string][][]byte{}}
	for _, name := range d.names() {
		recs, bad, torn := parseFile(d.files[name])
		rec.Files[name] = recs
		if torn {
			rec.Torn++
			// Cut the torn tail so later appends start on a record boundary.
			d.files[name] = d.files[name][:framedLen(recs)]
		}
		if bad {
			rec.Corrupt = append(rec.Corrupt, CorruptRecord{File: name, Index: len(recs)})
		}
	}
	return rec
}

func framedLen(recs [][]byte) int {
	n := 0
	for _, r := range recs {
		n += frameHeader + len(r)
	}
	return n
}

// parseFile splits a file into verified records. A bad record that is the file's last
// bytes is a torn write; a bad record with data after it is corruption. Nothing after the
// first bad record is served: its length field can no longer be trusted.
func parseFile(b []byte) (recs [][]byte, corrupt, torn bool) {
	for len(b) > 0 {
		if len(b) < frameHeader {
			return recs, false, true
		}
		n := int(binary.LittleEndian.Uint32(b))
		sum := binary.LittleEndian.Uint32(b[4:])
		if n > len(b)-frameHeader {
			return recs, false, true // the final write was cut short
		}
		payload := b[frameHeader : frameHeader+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			last := frameHeader+n == len(b)
			return recs, !last, last
		}
		recs = append(recs, slices.Clone(payload))
		b = b[frameHeader+n:]
	}
	return recs, false, false
}
