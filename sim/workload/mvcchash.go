package workload

import (
	"encoding/binary"
	"hash/crc32"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/orrery/orrery/node/kv"
)

// hashKV is etcd's HashKV computed from the client's stream, as a reference for the
// store's: CRC-32 Castagnoli over the bucket name "key" and then, in revision order, each
// stored revision's backend key (8-byte main revision, '_', 8-byte sub-revision, 't' for a
// tombstone) and its value, the KeyValue as etcd's own protobuf code encodes it (a
// tombstone holds only the key). The store's backend after a compaction at compacted
// holds every revision above it and, at or below it, each key's latest version if that is
// not a tombstone; of those, etcd counts the ones a compaction at rev would keep (all of
// them if it would keep none).
func (m *mvccClient) hashKV(rev, compacted int64) uint32 {
	type entry struct {
		rev, sub int64
		ev       kv.Event
	}
	var all []entry
	for r := int64(2); r <= rev; r++ {
		for i, ev := range m.history[r] {
			all = append(all, entry{rev: r, sub: int64(i), ev: ev})
		}
	}
	// keep returns, for each key, its latest entry at or before at, unless a tombstone.
	keep := func(at int64) map[[2]int64]bool {
		last := map[string]entry{}
		for _, e := range all {
			if e.rev <= at {
				last[string(e.ev.KV.Key)] = e
			}
		}
		out := map[[2]int64]bool{}
		//det:unordered builds a set
		for _, e := range last {
			if e.ev.Type == kv.EventPut {
				out[[2]int64{e.rev, e.sub}] = true
			}
		}
		return out
	}
	stored, counted := keep(compacted), keep(rev)
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	h.Write([]byte("key"))
	for _, e := range all {
		id := [2]int64{e.rev, e.sub}
		if e.rev <= compacted && (!stored[id] || len(counted) > 0 && !counted[id]) {
			continue
		}
		key := binary.BigEndian.AppendUint64(nil, uint64(e.rev))
		key = append(key, '_')
		key = binary.BigEndian.AppendUint64(key, uint64(e.sub))
		value := mvccpb.KeyValue{Key: e.ev.KV.Key}
		if e.ev.Type == kv.EventDelete {
			key = append(key, 't')
		} else {
			k := e.ev.KV
			value = mvccpb.KeyValue{Key: k.Key, CreateRevision: k.CreateRevision, ModRevision: k.ModRevision, Version: k.Version, Value: k.Value, Lease: k.Lease}
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&value)
		if err != nil {
			panic("mvcc: marshal a KeyValue: " + err.Error())
		}
		h.Write(key)
		h.Write(b)
	}
	return h.Sum32()
}
