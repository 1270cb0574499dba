package kv

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
)

// Snapshot encoding, version 1:
//
//	"ORKV" version(1) varint(rev) varint(compactRev) uvarint(leaseSeq)
//	uvarint(n) n*entry     in revision order: key value create mod version lease sub flags(tomb)
//	uvarint(n) n*lease     by ID: id ttl
//	uvarint(n) n*dedup     by client: client seq revision errcode response
//	crc32c(everything before), 4 bytes big-endian
//
// Attached lease keys are not stored: they follow from the live keys' Lease fields.

var snapshotMagic = []byte("ORKV")

const snapshotVersion = 1

// maxRevision bounds a restored revision far below overflow; a real store never gets near.
const maxRevision = 1 << 62

// Snapshot returns the whole replicated state. Two stores that applied the same commands
// return identical bytes. Watchers are not part of it.
func (s *Store) Snapshot() []byte {
	es := s.entries()
	// Size the buffer up front: growing it by doubling copies the whole key space several
	// times, which showed as most of a leader's snapshot time in the put benchmark.
	size := len(snapshotMagic) + 64
	for _, x := range es {
		size += len(x.kv.Key) + len(x.kv.Value) + 40
	}
	e := &encoder{b: append(make([]byte, 0, size), snapshotMagic...)}
	e.byte(snapshotVersion)
	e.varint(s.rev)
	e.varint(s.compactRev)
	e.uvarint(s.leaseSeq)
	e.uvarint(uint64(len(es)))
	for _, x := range es {
		e.kv(&x.kv)
		e.varint(x.sub)
		e.flags(x.tomb)
	}
	ls := s.Leases()
	e.uvarint(uint64(len(ls)))
	for _, l := range ls {
		e.varint(l.ID)
		e.varint(l.TTL)
	}
	clients := make([]uint64, 0, len(s.dedup))
	for c := range s.dedup {
		clients = append(clients, c)
	}
	slices.Sort(clients)
	e.uvarint(uint64(len(clients)))
	for _, c := range clients {
		d := s.dedup[c]
		e.uvarint(c)
		e.uvarint(d.seq)
		e.varint(d.revision)
		e.uvarint(errCode(d.err))
		e.response(&d.resp)
	}
	return binary.BigEndian.AppendUint32(e.b, crc32.Checksum(e.b, castagnoli))
}

// Restore rebuilds a store from Snapshot's output, with cfg as its configuration. Corrupt
// or inconsistent input gives an error wrapping ErrMalformed.
func Restore(data []byte, cfg Config) (*Store, error) {
	s, err := restore(data, cfg)
	if err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	return s, nil
}

func restore(data []byte, cfg Config) (*Store, error) {
	n := len(data) - 4
	if n < len(snapshotMagic) || !bytes.HasPrefix(data, snapshotMagic) {
		return nil, fmt.Errorf("%w: not a snapshot", ErrMalformed)
	}
	if crc32.Checksum(data[:n], castagnoli) != binary.BigEndian.Uint32(data[n:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrMalformed)
	}
	d := &decoder{b: data[:n], off: len(snapshotMagic)}
	if v := d.byte(); d.err == nil && v != snapshotVersion {
		d.fail("unknown snapshot version %d", v)
	}
	s := New(cfg)
	s.rev, s.compactRev, s.leaseSeq = d.varint(), d.varint(), d.uvarint()
	if d.err == nil && (s.rev < 1 || s.rev > maxRevision || s.compactRev < -1 || s.compactRev > s.rev) {
		d.fail("revision %d, compaction %d", s.rev, s.compactRev)
	}
	s.restoreEntries(d)
	s.restoreLeases(d)
	s.restoreDedup(d)
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := s.checkRestored(); err != nil {
		return nil, err
	}
	return s, nil
}

// restoreEntries reads the entries, rebuilding the key index and the revision log.
func (s *Store) restoreEntries(d *decoder) {
	n := d.count()
	hs := map[string]*keyHistory{}
	s.log = revLog{first: max(2, s.compactRev)}
	var last *entry
	for range n {
		e := &entry{kv: d.kv(), sub: d.varint(), tomb: d.flags(1)[0]}
		if d.err != nil {
			return
		}
		if !s.validEntry(e, last) {
			d.fail("entry at revision %d.%d out of order or out of bounds", e.rev(), e.sub)
			return
		}
		last = e
		h := hs[string(e.kv.Key)]
		if h == nil {
			h = &keyHistory{key: e.kv.Key}
			hs[string(e.kv.Key)] = h
		}
		e.kv.Key = h.key
		h.revs = append(h.revs, e)
		if e.rev() >= s.log.first {
			s.logEntry(e)
		}
	}
	keys := make([]string, 0, len(hs))
	for k := range hs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sorted := make([]*keyHistory, len(keys))
	for i, k := range keys {
		sorted[i] = hs[k]
	}
	s.index.load(sorted)
}

// validEntry checks e's position: after last in (revision, sub) order, inside the store's
// revisions, and, in the revision log, without gaps in revisions or subs.
func (s *Store) validEntry(e, last *entry) bool {
	if e.rev() < 2 || e.rev() > s.rev || e.sub < 0 || len(e.kv.Key) == 0 {
		return false
	}
	if last != nil && cmp.Or(cmp.Compare(e.rev(), last.rev()), cmp.Compare(e.sub, last.sub)) <= 0 {
		return false
	}
	if e.rev() < s.log.first {
		return true
	}
	end := s.log.first + int64(len(s.log.batches)) // next revision the log expects
	switch e.rev() {
	case end - 1:
		return e.sub == int64(len(s.log.batches[len(s.log.batches)-1]))
	case end:
		return e.sub == 0
	}
	return false
}

func (s *Store) logEntry(e *entry) {
	if i := e.rev() - s.log.first; i < int64(len(s.log.batches)) {
		s.log.batches[i] = append(s.log.batches[i], e)
		return
	}
	s.log.append(e.rev(), []*entry{e})
}

func (s *Store) restoreLeases(d *decoder) {
	n := d.count()
	var last LeaseID
	for i := range n {
		l := &lease{id: d.varint(), ttl: d.varint(), keys: map[string]struct{}{}}
		if d.err != nil {
			return
		}
		if l.id == 0 || i > 0 && l.id <= last {
			d.fail("lease %d out of order", l.id)
			return
		}
		last = l.id
		s.leases[l.id] = l
	}
}

func (s *Store) restoreDedup(d *decoder) {
	n := d.count()
	var last uint64
	for i := range n {
		c := d.uvarint()
		x := &dedupEntry{seq: d.uvarint(), revision: d.varint(), err: d.resultErr(), resp: d.response()}
		if d.err != nil {
			return
		}
		if c == 0 || i > 0 && c <= last {
			d.fail("dedup client %d out of order", c)
			return
		}
		last = c
		s.dedup[c] = x
	}
}

// checkRestored checks what spans sections: the log reaches the current revision, and
// every live key's lease exists (and gets the key attached).
func (s *Store) checkRestored() error {
	if end := s.log.first + int64(len(s.log.batches)) - 1; end != s.rev {
		return fmt.Errorf("%w: revision log ends at %d, store at %d", ErrMalformed, end, s.rev)
	}
	var err error
	s.index.all(func(h *keyHistory) {
		e := h.latest()
		if e == nil || e.kv.Lease == 0 || err != nil {
			return
		}
		if s.leases[e.kv.Lease] == nil {
			err = fmt.Errorf("%w: key %q attached to missing lease %d", ErrMalformed, h.key, e.kv.Lease)
			return
		}
		s.attach(e.kv.Lease, h.key)
	})
	return err
}
