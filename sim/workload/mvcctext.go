package workload

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/orrery/orrery/node/kv"
)

// Canonical texts of responses: the mvcc client compares the reference's answer with the
// store's as text, so that an empty list and a missing one, or two equal errors, compare
// equal, and so that a mismatch reads as what each side said.

func describeReply(r *kv.Reply) string {
	if r.Err != nil {
		return "error " + r.Err.Error()
	}
	switch {
	case r.Put != nil:
		return describePut(r.Put)
	case r.DeleteRange != nil:
		return describeDelete(r.DeleteRange)
	case r.Txn != nil:
		return describeTxn(r.Txn)
	case r.Compaction != nil:
		return fmt.Sprintf("compacted @%d", r.Compaction.Header.Revision)
	case r.LeaseGrant != nil:
		return fmt.Sprintf("granted %d ttl %d @%d", r.LeaseGrant.ID, r.LeaseGrant.TTL, r.LeaseGrant.Header.Revision)
	case r.LeaseRevoke != nil:
		return fmt.Sprintf("revoked @%d", r.LeaseRevoke.Header.Revision)
	}
	return "empty reply"
}

func describeAnswer(a *kv.Answer) string {
	if a.Err != nil {
		return "error " + a.Err.Error()
	}
	switch {
	case a.Range != nil:
		return describeRange(a.Range)
	case a.Txn != nil:
		return describeTxn(a.Txn)
	case a.KeepAlive != nil:
		return fmt.Sprintf("renewed %d ttl %d @%d", a.KeepAlive.ID, a.KeepAlive.TTL, a.KeepAlive.Header.Revision)
	case a.HashKV != nil:
		return fmt.Sprintf("hash %08x compacted %d @%d", a.HashKV.Hash, a.HashKV.CompactRevision, a.HashKV.Header.Revision)
	case a.TimeToLive != nil:
		t := a.TimeToLive
		keys := make([]string, len(t.Keys))
		for i, k := range t.Keys {
			keys[i] = fmt.Sprintf("%q", k)
		}
		return fmt.Sprintf("lease %d ttl %d granted %d keys [%s] @%d", t.ID, t.TTL, t.GrantedTTL, strings.Join(keys, " "), t.Header.Revision)
	}
	return "empty answer"
}

func describeRange(r *kv.RangeResponse) string {
	return fmt.Sprintf("range count %d more %v [%s] @%d", r.Count, r.More, kvsText(r.KVs), r.Header.Revision)
}

func describePut(p *kv.PutResponse) string {
	return fmt.Sprintf("put prev %s @%d", kvText(p.PrevKV), p.Header.Revision)
}

func describeDelete(d *kv.DeleteRangeResponse) string {
	return fmt.Sprintf("deleted %d prev [%s] @%d", d.Deleted, kvsText(d.PrevKVs), d.Header.Revision)
}

func describeTxn(t *kv.TxnResponse) string {
	parts := make([]string, len(t.Responses))
	for i, r := range t.Responses {
		switch {
		case r.Range != nil:
			parts[i] = describeRange(r.Range)
		case r.Put != nil:
			parts[i] = describePut(r.Put)
		case r.DeleteRange != nil:
			parts[i] = describeDelete(r.DeleteRange)
		case r.Txn != nil:
			parts[i] = describeTxn(r.Txn)
		default:
			parts[i] = "empty"
		}
	}
	return fmt.Sprintf("txn succeeded %v {%s} @%d", t.Succeeded, strings.Join(parts, "; "), t.Header.Revision)
}

// describeCommand and describeQuery render requests for messages: every field that is
// set, byte slices as strings.
func describeCommand(c *kv.Command) string { return describeValue(reflect.ValueOf(*c)) }

func describeQuery(q *kv.Query) string { return describeValue(reflect.ValueOf(*q)) }

func describeValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return describeValue(v.Elem())
	case reflect.Struct:
		var parts []string
		for i := range v.NumField() {
			f := v.Field(i)
			if f.IsZero() {
				continue
			}
			parts = append(parts, v.Type().Field(i).Name+":"+describeValue(f))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%q", v.Bytes())
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = describeValue(v.Index(i))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v.Interface())
}
