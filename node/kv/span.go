package kv

import "bytes"

// span is the set of keys a request names, decoded once from etcd's (key, range_end)
// convention: an empty range end names key alone, "\x00" names every key >= key, anything
// else names [key, end), which is empty when end <= key.
type span struct {
	start  []byte
	end    []byte // exclusive bound; nil when single or unbounded
	single bool
}

func mkSpan(key, rangeEnd []byte) span {
	switch {
	case len(rangeEnd) == 0:
		return span{start: key, single: true}
	case isToEnd(rangeEnd):
		return span{start: key}
	default:
		return span{start: key, end: rangeEnd}
	}
}

func isToEnd(rangeEnd []byte) bool { return len(rangeEnd) == 1 && rangeEnd[0] == 0 }

// contains reports whether k is in the span.
func (s span) contains(k []byte) bool {
	c := bytes.Compare(k, s.start)
	switch {
	case s.single:
		return c == 0
	case c < 0:
		return false
	default:
		return s.end == nil || bytes.Compare(k, s.end) < 0
	}
}

// beyond reports whether k, and so every key after it, lies past the span's end.
func (s span) beyond(k []byte) bool {
	if s.single {
		return bytes.Compare(k, s.start) > 0
	}
	return s.end != nil && bytes.Compare(k, s.end) >= 0
}

// Prefix returns the range end that, with key, names every key starting with key (etcd's
// clientv3.GetPrefixRangeEnd): key with its last byte below 0xff incremented and the rest
// dropped, or "\x00" (no end) when every byte is 0xff.
func Prefix(key []byte) []byte {
	end := bytes.Clone(key)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}
