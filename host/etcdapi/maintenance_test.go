package etcdapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/snapshot"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
	"github.com/orrery/orrery/node/kv"
)

// TestEtcdctlPaths covers what etcdctl's member list, endpoint status, endpoint health
// (a Get of "health", then the alarm list), endpoint hashkv and defrag call.
func TestEtcdctlPaths(t *testing.T) {
	c := start(t, etcdapitest.Config{Name: "n1"}, etcdapi.Options{})
	ctx := ctxT(t)
	_, err := c.cli.Put(ctx, "k", "v")
	require.NoError(t, err)

	ml, err := c.cli.MemberList(ctx)
	require.NoError(t, err)
	require.Len(t, ml.Members, 1)
	m := ml.Members[0]
	require.Equal(t, uint64(etcdapitest.DefaultMemberID), m.ID)
	require.Equal(t, "n1", m.Name)
	require.Equal(t, []string{"http://" + c.addr}, m.ClientURLs)
	require.Equal(t, uint64(etcdapitest.DefaultClusterID), ml.Header.ClusterId)

	st, err := c.cli.Status(ctx, c.addr)
	require.NoError(t, err)
	require.Equal(t, st.Header.MemberId, st.Leader)
	require.Equal(t, "3.7.3", st.Version)
	require.Equal(t, "3.7.0", st.StorageVersion)
	require.Equal(t, int64(2), st.Header.Revision)
	require.Equal(t, uint64(1), st.RaftAppliedIndex)
	require.Positive(t, st.DbSize)
	require.Empty(t, st.Errors)

	_, err = c.cli.Get(ctx, "health")
	require.NoError(t, err)
	alarms, err := c.cli.AlarmList(ctx)
	require.NoError(t, err)
	require.Empty(t, alarms.Alarms)

	h1, err := c.cli.HashKV(ctx, c.addr, 0)
	require.NoError(t, err)
	require.Equal(t, int64(2), h1.HashRevision)
	_, err = c.cli.Put(ctx, "k", "w")
	require.NoError(t, err)
	h2, err := c.cli.HashKV(ctx, c.addr, 0)
	require.NoError(t, err)
	require.NotEqual(t, h1.Hash, h2.Hash)
	h1again, err := c.cli.HashKV(ctx, c.addr, 2)
	require.NoError(t, err)
	require.Equal(t, h1.Hash, h1again.Hash)

	_, err = c.cli.Defragment(ctx, c.addr)
	require.NoError(t, err)

	_, err = c.cli.MemberAdd(ctx, []string{"http://127.0.0.1:1"})
	require.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
	_, err = c.cli.MoveLeader(ctx, 2)
	require.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
	_, err = c.cli.AlarmDisarm(ctx, &clientv3.AlarmMember{Alarm: etcdserverpb.AlarmType_NOSPACE})
	require.NoError(t, err)
	auth, err := c.cli.AuthStatus(ctx)
	require.NoError(t, err)
	require.False(t, auth.Enabled)
}

// TestSnapshotSave runs etcdctl snapshot save's code path and restores the saved state.
func TestSnapshotSave(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	ctx := ctxT(t)
	for _, k := range []string{"a", "b", "c"} {
		_, err := c.cli.Put(ctx, k, "value of "+k)
		require.NoError(t, err)
	}
	path := filepath.Join(t.TempDir(), "snap.db")
	ver, err := snapshot.SaveWithVersion(ctx, zap.NewNop(), clientv3.Config{Endpoints: []string{c.addr}}, path)
	require.NoError(t, err)
	require.Equal(t, "3.7.0", ver)

	file, err := os.ReadFile(path)
	require.NoError(t, err)
	payload, err := etcdapi.SnapshotPayload(file)
	require.NoError(t, err)
	st, err := kv.Restore(payload, kv.Config{})
	require.NoError(t, err)
	r, err := st.Range(kv.RangeRequest{Key: []byte("b")})
	require.NoError(t, err)
	require.Equal(t, "value of b", string(r.KVs[0].Value))
	require.Equal(t, int64(4), st.Rev())

	file[10] ^= 1
	_, err = etcdapi.SnapshotPayload(file)
	require.ErrorIs(t, err, etcdapi.ErrBadSnapshot)
}

func TestHTTPHealthAndVersion(t *testing.T) {
	c := start(t, etcdapitest.Config{}, etcdapi.Options{})
	hs := httptest.NewServer(c.srv.Handler())
	defer hs.Close()

	get := func(path string) (int, map[string]string) {
		resp, err := http.Get(hs.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var m map[string]string
		require.NoError(t, json.Unmarshal(body, &m), "%s", body)
		return resp.StatusCode, m
	}
	code, h := get("/health")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "true", h["health"])

	code, v := get("/version")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "3.7.3", v["etcdserver"])
	require.Equal(t, "3.7.0", v["etcdcluster"])

	c.b.SetLeader(false)
	code, h = get("/health")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "false", h["health"])
	code, h = get("/health?serializable=true")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "true", h["health"])
}
