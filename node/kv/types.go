package kv

// KeyValue is one version of a key (mvccpb.KeyValue). Byte slices returned by the store are
// shared with it: callers must not modify them.
type KeyValue struct {
	Key            []byte
	CreateRevision int64 // revision of the put that created the key (since its last delete)
	ModRevision    int64 // revision of the last write to the key
	Version        int64 // 1 on create, +1 per put; a delete resets it
	Value          []byte
	Lease          int64 // attached lease, 0 for none
}

// ResponseHeader carries the store revision a response reflects. The node fills in the
// cluster ID, member ID and raft term.
type ResponseHeader struct {
	Revision int64
}

// SortOrder of a range (etcdserverpb.RangeRequest_SortOrder).
type SortOrder uint8

// Sort orders.
const (
	SortNone SortOrder = iota
	SortAscend
	SortDescend
)

// SortTarget of a range (etcdserverpb.RangeRequest_SortTarget).
type SortTarget uint8

// Sort targets.
const (
	SortByKey SortTarget = iota
	SortByVersion
	SortByCreate
	SortByMod
	SortByValue
)

// RangeRequest reads the keys in [Key, RangeEnd). An empty RangeEnd reads Key alone;
// RangeEnd "\x00" reads every key >= Key; Prefix(key) gives the end of a prefix.
type RangeRequest struct {
	Key               []byte
	RangeEnd          []byte
	Limit             int64
	Revision          int64 // 0: the current revision
	SortOrder         SortOrder
	SortTarget        SortTarget
	Serializable      bool // for the node: serve locally without a read index
	KeysOnly          bool
	CountOnly         bool
	MinModRevision    int64
	MaxModRevision    int64
	MinCreateRevision int64
	MaxCreateRevision int64
}

// RangeResponse answers a RangeRequest. Count is the number of keys in the range at the
// requested revision, before limit and min/max filters; More says that Limit cut the list.
type RangeResponse struct {
	Header ResponseHeader
	KVs    []KeyValue
	More   bool
	Count  int64
}

// PutRequest writes Key.
type PutRequest struct {
	Key         []byte
	Value       []byte
	Lease       int64
	PrevKV      bool
	IgnoreValue bool // keep the current value (the key must exist)
	IgnoreLease bool // keep the current lease (the key must exist)
}

// PutResponse answers a PutRequest; PrevKV is set when asked for and the key existed.
type PutResponse struct {
	Header ResponseHeader
	PrevKV *KeyValue
}

// DeleteRangeRequest deletes the keys in [Key, RangeEnd), with RangeRequest's conventions.
type DeleteRangeRequest struct {
	Key      []byte
	RangeEnd []byte
	PrevKV   bool
}

// DeleteRangeResponse answers a DeleteRangeRequest.
type DeleteRangeResponse struct {
	Header  ResponseHeader
	Deleted int64
	PrevKVs []KeyValue
}

// CompareResult is the relation a Compare checks.
type CompareResult uint8

// Compare results (etcdserverpb.Compare_CompareResult, same numbering).
const (
	CompareEqual CompareResult = iota
	CompareGreater
	CompareLess
	CompareNotEqual
)

// CompareTarget is the field a Compare reads.
type CompareTarget uint8

// Compare targets (etcdserverpb.Compare_CompareTarget, same numbering).
const (
	TargetVersion CompareTarget = iota
	TargetCreate
	TargetMod
	TargetValue
	TargetLease
)

// Compare is one guard of a txn: "field(key) Result operand" for Key alone, or for every key
// in [Key, RangeEnd). Only the operand named by Target is read (the proto's target_union).
type Compare struct {
	Result         CompareResult
	Target         CompareTarget
	Key            []byte
	RangeEnd       []byte
	Version        int64
	CreateRevision int64
	ModRevision    int64
	Value          []byte
	Lease          int64
}

// RequestOp is one operation of a txn: exactly one field is set.
type RequestOp struct {
	Range       *RangeRequest
	Put         *PutRequest
	DeleteRange *DeleteRangeRequest
	Txn         *TxnRequest
}

// ResponseOp answers a RequestOp: the field matching the request is set.
type ResponseOp struct {
	Range       *RangeResponse
	Put         *PutResponse
	DeleteRange *DeleteRangeResponse
	Txn         *TxnResponse
}

// TxnRequest runs Success if every Compare holds, Failure otherwise, atomically.
type TxnRequest struct {
	Compare []Compare
	Success []RequestOp
	Failure []RequestOp
}

// TxnResponse answers a TxnRequest: one response per operation of the branch taken.
type TxnResponse struct {
	Header    ResponseHeader
	Succeeded bool
	Responses []ResponseOp
}

// CompactionRequest discards the history before Revision.
type CompactionRequest struct {
	Revision int64
	Physical bool // accepted for API compatibility; compaction is always immediate
}

// CompactionResponse answers a CompactionRequest.
type CompactionResponse struct {
	Header ResponseHeader
}

// LeaseID names a lease; 0 means no lease.
type LeaseID = int64

// LeaseGrantRequest creates a lease. ID 0 lets the store choose one.
type LeaseGrantRequest struct {
	TTL int64 // seconds; raised to Config.MinLeaseTTL
	ID  LeaseID
}

// LeaseGrantResponse answers a LeaseGrantRequest with the ID and the TTL granted.
type LeaseGrantResponse struct {
	Header ResponseHeader
	ID     LeaseID
	TTL    int64
}

// LeaseRevokeRequest revokes a lease and deletes its keys.
type LeaseRevokeRequest struct {
	ID LeaseID
}

// LeaseRevokeResponse answers a LeaseRevokeRequest.
type LeaseRevokeResponse struct {
	Header ResponseHeader
}

// LeaseExpireRequest revokes the leases the leader's Lessor found expired. Leases that no
// longer exist are skipped: they were revoked after the leader decided.
type LeaseExpireRequest struct {
	IDs []LeaseID
}

// LeaseExpireResponse lists the leases the expiry actually revoked.
type LeaseExpireResponse struct {
	Header  ResponseHeader
	Revoked []LeaseID
}

// LeaseTimeToLiveResponse answers a time-to-live query. TTL is -1 for an unknown lease; the
// store reports the granted TTL there and the node replaces it with the Lessor's remaining
// time on the leader.
type LeaseTimeToLiveResponse struct {
	Header     ResponseHeader
	ID         LeaseID
	TTL        int64
	GrantedTTL int64
	Keys       [][]byte
}

// LeaseStatus is one entry of a lease list.
type LeaseStatus struct {
	ID  LeaseID
	TTL int64 // granted TTL, seconds
}

// EventType says whether an event is a put or a delete.
type EventType uint8

// Event types (mvccpb.Event_EventType).
const (
	EventPut EventType = iota
	EventDelete
)

// Event is one change to one key. A delete event's KV holds only Key and ModRevision.
// PrevKV is filled only for watchers that ask for it.
type Event struct {
	Type   EventType
	KV     KeyValue
	PrevKV *KeyValue
}
