package disk

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// Layout of orrery.db: one top-level bucket per file, named filePrefix+name (the prefix
// lets the empty name be a file too, and leaves other names free for later use). Keys are
// the record's sequence number in its file, from 1, as 8 big-endian bytes, so bbolt's
// byte order is append order. Each value is the CRC-32C of the record, 4 big-endian
// bytes, followed by the record.
const (
	filePrefix = "f:"
	keyLen     = 8
	sumLen     = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func bucketName(file string) []byte { return []byte(filePrefix + file) }

func fileName(bucket []byte) (string, bool) {
	return strings.CutPrefix(string(bucket), filePrefix)
}

func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, keyLen), seq) }

// encode copies rec into a new value, so the caller may reuse rec at once.
func encode(rec []byte) []byte {
	v := make([]byte, sumLen+len(rec))
	binary.BigEndian.PutUint32(v, crc32.Checksum(rec, castagnoli))
	copy(v[sumLen:], rec)
	return v
}

// decode returns the record held in the value stored under the index-th key (0-based) of
// a file, or false if anything about it is wrong. A key out of sequence counts as damage
// too: it means a record went missing, and serving the ones after the hole would hand the
// component a log with a gap it cannot see.
func decode(index int, k, v []byte) ([]byte, bool) {
	if len(k) != keyLen || binary.BigEndian.Uint64(k) != uint64(index)+1 {
		return nil, false
	}
	if len(v) < sumLen { // includes v == nil: a nested bucket, which we never create
		return nil, false
	}
	rec := v[sumLen:]
	if crc32.Checksum(rec, castagnoli) != binary.BigEndian.Uint32(v) {
		return nil, false
	}
	return rec, true
}
