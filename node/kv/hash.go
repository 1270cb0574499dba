package kv

import (
	"cmp"
	"encoding/binary"
	"hash/crc32"
	"slices"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// HashKV hashes the MVCC contents up to rev (0: the current revision) as etcd's HashKV
// does: CRC-32 Castagnoli over the bucket name "key", then, in revision order, each stored
// revision's backend key (8-byte main, '_', 8-byte sub, 't' for a tombstone) and its
// protobuf-encoded KeyValue. As in etcd, revisions at or below the compaction revision
// count only if a compaction at rev would keep them, and a tombstone at the compaction
// revision never counts. It returns the hash and the compaction revision (-1 if none).
func (s *Store) HashKV(rev int64) (uint32, int64, error) {
	switch {
	case rev > 0 && rev < s.compactRev:
		return 0, 0, ErrCompacted
	case rev > s.rev:
		return 0, 0, ErrFutureRev
	case rev == 0:
		rev = s.rev
	}
	keep := map[*entry]bool{}
	s.index.all(func(h *keyHistory) {
		if e := h.lastAtOrBefore(rev); e != nil && !e.tomb {
			keep[e] = true
		}
	})
	h := crc32.New(castagnoli)
	h.Write([]byte("key"))
	var buf []byte
	for _, e := range s.entries() {
		if e.rev() > rev {
			break
		}
		if e.rev() <= s.compactRev && len(keep) > 0 && !keep[e] || e.rev() == s.compactRev && e.tomb {
			continue
		}
		buf = appendBackendKey(buf[:0], e)
		buf = appendProtoKV(buf, &e.kv)
		h.Write(buf)
	}
	return h.Sum32(), s.compactRev, nil
}

// entries returns every stored entry in revision order.
func (s *Store) entries() []*entry {
	var es []*entry
	s.index.all(func(h *keyHistory) { es = append(es, h.revs...) })
	slices.SortFunc(es, func(a, b *entry) int {
		return cmp.Or(cmp.Compare(a.rev(), b.rev()), cmp.Compare(a.sub, b.sub))
	})
	return es
}

func appendBackendKey(b []byte, e *entry) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(e.rev()))
	b = append(b, '_')
	b = binary.BigEndian.AppendUint64(b, uint64(e.sub))
	if e.tomb {
		b = append(b, 't')
	}
	return b
}

// appendProtoKV appends mvccpb.KeyValue's protobuf encoding (proto3: zero fields omitted).
// A tombstone is stored as a KeyValue holding only the key, as etcd stores it.
func appendProtoKV(b []byte, kv *KeyValue) []byte {
	protoBytes := func(field byte, v []byte) {
		if len(v) > 0 {
			b = append(b, field<<3|2)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	protoInt := func(field byte, v int64) {
		if v != 0 {
			b = append(b, field<<3)
			b = binary.AppendUvarint(b, uint64(v))
		}
	}
	protoBytes(1, kv.Key)
	protoInt(2, kv.CreateRevision)
	if kv.CreateRevision != 0 { // a tombstone carries no mod revision in the backend
		protoInt(3, kv.ModRevision)
	}
	protoInt(4, kv.Version)
	protoBytes(5, kv.Value)
	protoInt(6, kv.Lease)
	return b
}
