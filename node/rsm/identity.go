package rsm

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	c "github.com/orrery/orrery/node/component"
)

// IdentityFile is the file of the component disk, beside the WAL segments, in which a real
// member records its Identity: written once, on the first start.
const IdentityFile = "member"

// Identity is what a member must know before it can replay its WAL: its ID, the cluster
// ID, the initial members (the seed of the member table and raft's bootstrap
// configuration) and, for a member that joined a running cluster, the members it learned
// of when it did. Later starts take it from the record and ignore the configured cluster
// list, as etcd ignores --initial-cluster on restart.
type Identity struct {
	ID, ClusterID uint64
	Initial       []Member // the cluster's initial members, by ID; none for a member that joined
	Contacts      []Member // a joined member's view of the cluster when it joined
}

func (id Identity) String() string {
	return fmt.Sprintf("identity %d cluster=%d initial=[%s] contacts=[%s]", id.ID, id.ClusterID,
		formatMembers(id.Initial), formatMembers(id.Contacts))
}

// ErrBadIdentity wraps every failure to decode an identity record.
var ErrBadIdentity = errors.New("rsm: malformed identity record")

// Encode returns the identity record: a format byte (1), the ID and the cluster ID as
// uvarints, then Initial and Contacts, each a length-prefixed member table (EncodeMembers).
func (id Identity) Encode() []byte {
	b := binary.AppendUvarint([]byte{1}, id.ID)
	b = binary.AppendUvarint(b, id.ClusterID)
	for _, ms := range [][]Member{id.Initial, id.Contacts} {
		b = appendBytes(b, encodeMembers(ms))
	}
	return b
}

// DecodeIdentity reads what Encode wrote. Bytes after the two tables are ignored, for
// records a later version may extend. Errors wrap ErrBadIdentity.
func DecodeIdentity(b []byte) (Identity, error) {
	var id Identity
	if len(b) == 0 || b[0] != 1 {
		return id, ErrBadIdentity
	}
	r := &reader{b: b[1:]}
	id.ID, id.ClusterID = r.uvarint(), r.uvarint()
	for _, dst := range []*[]Member{&id.Initial, &id.Contacts} {
		raw := r.bytes()
		if r.err != nil {
			return id, ErrBadIdentity
		}
		ms, err := decodeMembers(raw)
		if err != nil {
			return id, fmt.Errorf("%w: %w", ErrBadIdentity, err)
		}
		*dst = ms
	}
	if id.ID == 0 {
		return id, ErrBadIdentity
	}
	return id, nil
}

// RecordedIdentity returns the identity recorded on the disk a member recovered (the last
// record of IdentityFile), and false when there is none (a first start).
func RecordedIdentity(rec c.Recovery) (Identity, bool, error) {
	recs := rec.Files[IdentityFile]
	if len(recs) == 0 {
		return Identity{}, false, nil
	}
	id, err := DecodeIdentity(recs[len(recs)-1])
	return id, true, err
}

// NewIdentity is the identity of member self in a new cluster of the initial members
// peers, each with one peer URL, in the order of the cluster list: the cluster ID depends
// on it, so every member must be given the same list.
func NewIdentity(self uint64, peers []Member) (Identity, error) {
	if !slices.ContainsFunc(peers, func(m Member) bool { return m.ID == self }) {
		return Identity{}, fmt.Errorf("member %d is not in the initial cluster", self)
	}
	initial := cloneMembers(peers)
	slices.SortFunc(initial, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return Identity{ID: self, ClusterID: ClusterIDOf(peers), Initial: initial}, nil
}

// ClusterIDOf identifies a cluster by its initial membership, as etcd derives it: a hash
// of every member's ID, name and first peer URL, in the order given.
func ClusterIDOf(peers []Member) uint64 {
	h := fnv.New64a()
	for _, p := range peers {
		var u string
		if len(p.PeerURLs) > 0 {
			u = p.PeerURLs[0]
		}
		h.Write([]byte(strconv.FormatUint(p.ID, 10) + "=" + p.Name + "=" + u + ";"))
	}
	return h.Sum64()
}
