package etcdapi

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

func TestFragments(t *testing.T) {
	ev := func(n int) *mvccpb.Event {
		return &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte("k"), Value: bytes.Repeat([]byte("v"), n)}}
	}
	wr := &pb.WatchResponse{WatchId: 3, Header: &pb.ResponseHeader{Revision: 9}}
	for range 10 {
		wr.Events = append(wr.Events, ev(100))
	}
	whole := fragments(wr, 1<<20)
	require.Len(t, whole, 1)
	assert.False(t, whole[0].Fragment)

	parts := fragments(wr, 350)
	require.Greater(t, len(parts), 1)
	var n int
	for i, p := range parts {
		assert.Equal(t, i < len(parts)-1, p.Fragment)
		assert.Equal(t, int64(3), p.WatchId)
		assert.NotEmpty(t, p.Events)
		if len(p.Events) > 1 {
			assert.Less(t, proto.Size(p), 350)
		}
		n += len(p.Events)
	}
	assert.Equal(t, 10, n)

	// One event larger than the limit goes alone, unsplit.
	big := &pb.WatchResponse{Events: []*mvccpb.Event{ev(10), ev(1000), ev(10)}}
	parts = fragments(big, 200)
	require.Len(t, parts, 3)
	assert.Len(t, parts[1].Events, 1)
}

func TestSnapshotFraming(t *testing.T) {
	for _, size := range []int{0, 1, 100, 503, 504, 505, 512, 1000, 4096, 70000} {
		payload := bytes.Repeat([]byte{7}, size)
		body := append(bytes.Clone(payload), snapshotTrailer(int64(size))...)
		sum := sha256.Sum256(body)
		file := append(body, sum[:]...)
		assert.Equal(t, sha256.Size, len(file)%512, "size %d", size)
		got, err := SnapshotPayload(file)
		require.NoError(t, err, "size %d", size)
		assert.Equal(t, payload, got)
	}
	_, err := SnapshotPayload(make([]byte, 100))
	require.ErrorIs(t, err, ErrBadSnapshot)
}

func TestStorageVersion(t *testing.T) {
	assert.Equal(t, "3.7.0", storageVersion("3.7.3"))
	assert.Equal(t, "dev", storageVersion("dev"))
}
