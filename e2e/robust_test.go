package e2e

import (
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/orrery/orrery/host/disk"
	"github.com/orrery/orrery/host/tcp"
	"github.com/orrery/orrery/node/kv"
	"github.com/orrery/orrery/node/rsm"
)

// hello is the transport's handshake frame body: magic, version, sender, receiver
// (host/tcp/hello.go).
func hello(from, to uint64) []byte {
	b := append([]byte("ORRT"), 1)
	b = binary.BigEndian.AppendUint64(b, from)
	return binary.BigEndian.AppendUint64(b, to)
}

// TestGarbagePeerFrames connects raw sockets to the leader's peer port and writes what a
// broken or hostile peer might: a frame failing its checksum, a length far over the
// limit, a first frame that is not a hello, payloads that decode to nothing, and a
// well-formed write request and client-URL announcement from a node outside the cluster.
// The leader logs each and acts on none, keeps its leadership and term, and the cluster
// keeps serving, forwarding from followers included.
func TestGarbagePeerFrames(t *testing.T) {
	// A one-second election timeout: a loaded machine must not fake a lost leader.
	cl := newCluster(t, 3, withElectionTicks(100))
	lead := cl.leader()
	before := cl.ds[lead].M.Status()
	peerAddr := cl.ds[lead].M.PeerAddr()
	leadID := uint64(lead + 1)

	badSum := tcp.AppendFrame(nil, hello(2, leadID))
	badSum[5] ^= 0xff
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	garbage := []byte{0, 0xff, 0xfe, 0xfd, 0x01, 0x02}
	_, err := rsm.DecodeMessage(garbage[1:])
	require.Error(t, err, "the garbage payload must not decode to a message")
	badVarint := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

	conns := []struct {
		name  string
		bytes []byte
		log   string // what the leader logs about it
	}{
		{"bad checksum", badSum, "frame checksum mismatch"},
		{"huge length", huge, "frame larger than limit"},
		{"not a hello", tcp.AppendFrame(nil, []byte("GET / HTTP/1.1\r\n\r\n")), "bad handshake"},
		{"hello to another node", tcp.AppendFrame(nil, hello(99, leadID+1)), "addressed node"},
		{"truncated", append(tcp.AppendFrame(nil, hello(99, leadID)), 0, 0, 0, 9, 1, 2), "truncated frame"},
		// Claiming a member's ID (without peer TLS nothing proves it) gets the payloads as
		// far as the decoder; the member's own connection is replaced and it redials.
		{"undecodable payloads", append(append(tcp.AppendFrame(nil, hello(uint64((lead+1)%3+1), leadID)),
			tcp.AppendFrame(nil, garbage)...), tcp.AppendFrame(nil, badVarint)...), "bad peer"},
	}
	// A well-formed write request and client-URL announcement from a node that is not a
	// member: the leader must not act on either.
	put := kv.Command{Put: &kv.PutRequest{Key: []byte("injected"), Value: []byte("by a stranger")}}
	injected, err := rsm.EncodeMessage(rsm.Request{Client: 99<<40 | 1, Payload: put.Encode()})
	require.NoError(t, err)
	stranger := tcp.AppendFrame(nil, hello(99, leadID))
	stranger = tcp.AppendFrame(stranger, append(binary.AppendUvarint(nil, 99<<40|1), injected...))
	stranger = tcp.AppendFrame(stranger, append(binary.AppendUvarint(nil, ^uint64(0)), "http://evil:1"...))
	conns = append(conns, struct {
		name  string
		bytes []byte
		log   string
	}{"a stranger's request", stranger, "sender is not a member"})

	for _, c := range conns {
		conn, err := net.Dial("tcp", peerAddr)
		require.NoError(t, err, c.name)
		_, err = conn.Write(c.bytes)
		require.NoError(t, err, c.name)
		// Half-close: the leader reads what was sent, then EOF (ending a truncated frame).
		require.NoError(t, conn.(*net.TCPConn).CloseWrite())
		require.Eventually(t, func() bool { return strings.Contains(cl.logs[lead].String(), c.log) }, settle,
			5*time.Millisecond, "%s: the leader never logged %q", c.name, c.log)
		conn.Close()
	}
	logged := cl.logs[lead].String()
	assert.Contains(t, logged, "level=ERROR msg=\"closing peer connection\"")
	assert.Contains(t, logged, "bad peer message")

	ctx := testCtx(t, testTimeout)
	for i := range cl.ds {
		cli := newClient(t, cl.endpoints(i))
		_, err := cli.Put(ctx, fmt.Sprintf("after/%d", i), "ok")
		require.NoError(t, err, "put through member %d", i+1)
		resp, err := cli.Get(ctx, "after/", clientv3.WithPrefix())
		require.NoError(t, err)
		assert.EqualValues(t, i+1, resp.Count)
	}
	resp, err := newClient(t, cl.endpoints(lead)).Get(ctx, "injected")
	require.NoError(t, err)
	assert.Zero(t, resp.Count, "a stranger on the peer port wrote a key")
	assert.Nil(t, cl.ds[lead].M.ClientURLs(99), "a stranger announced client URLs")

	after := cl.ds[lead].M.Status()
	assert.True(t, after.IsLeader, "the leader lost its leadership")
	assert.Equal(t, before.Term, after.Term, "an election happened")
}

// TestRequestTooLarge puts a value over etcd's 1.5 MiB request limit: the client gets
// etcd's "request is too large" error, nothing is written, and the next small put works.
func TestRequestTooLarge(t *testing.T) {
	cl := newCluster(t, 3)
	cli := newClient(t, cl.endpoints(cl.follower()))
	ctx := testCtx(t, testTimeout)

	_, err := cli.Put(ctx, "big", strings.Repeat("x", 1536*1024+1))
	require.ErrorIs(t, err, rpctypes.ErrRequestTooLarge)
	assert.Equal(t, "etcdserver: request is too large", err.Error())
	_, err = cli.Txn(ctx).Then(clientv3.OpPut("big1", strings.Repeat("x", 800*1024)), clientv3.OpPut("big2", strings.Repeat("x", 800*1024))).Commit()
	require.ErrorIs(t, err, rpctypes.ErrRequestTooLarge, "the limit is on the request, not on one value")

	_, err = cli.Put(ctx, "small", "x")
	require.NoError(t, err)
	resp, err := cli.Get(ctx, "big", clientv3.WithPrefix())
	require.NoError(t, err)
	assert.Zero(t, resp.Count)
}

// TestCorruptDataDirRefusesToStart stops a member, flips a byte inside one of its stored
// records (bbolt bucket "f:<file>", value = CRC-32C + record), and restarts it: the
// member refuses to start and names the record and the file, in process and as
// `orrery node`. The other two members keep serving.
func TestCorruptDataDirRefusesToStart(t *testing.T) {
	bin := orreryBin(t)
	cl := newCluster(t, 3)
	cli := newClient(t, cl.endpoints(cl.leader()))
	ctx := testCtx(t, testTimeout)
	for i := range 20 {
		_, err := cli.Put(ctx, fmt.Sprintf("k%d", i), "v")
		require.NoError(t, err)
	}
	victim := cl.follower()
	// Wait until the victim holds the writes, so its log has records to damage.
	require.Eventually(t, func() bool { return cl.ds[victim].M.Status().Revision >= 21 }, settle, 5*time.Millisecond)
	cl.stop(victim)
	// The victim's last batches sit in its journal; opening the directory once moves them
	// into bbolt, where the damage goes.
	d, err := disk.Open(cl.dirs[victim], disk.Options{})
	require.NoError(t, err)
	require.NoError(t, d.Close())

	file, index := flipRecord(t, filepath.Join(cl.dirs[victim], "orrery.db"))
	want := fmt.Sprintf("record %d of %s fails its checksum", index, file)
	t.Logf("damaged record %d of file %q", index, file)

	err = cl.start(victim)
	require.Error(t, err, "a member started on a damaged data dir")
	assert.Contains(t, err.Error(), want)
	assert.Contains(t, err.Error(), cl.dirs[victim])

	out, err := exec.Command(bin, "node", "--name", cl.peers[victim].Name, "--data-dir", cl.dirs[victim],
		"--listen-peer-urls", "http://"+cl.peers[victim].Addr, "--listen-client-urls", "http://"+cl.clients[victim],
		"--initial-cluster", initialCluster(cl), "--log-level", "warn").CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "orrery node on a damaged data dir: %s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), want)

	_, err = cli.Put(ctx, "still", "serving")
	require.NoError(t, err, "the two healthy members lost their quorum")
}

func initialCluster(cl *cluster) string {
	var parts []string
	for _, p := range cl.peers {
		parts = append(parts, p.Name+"=http://"+p.Addr)
	}
	return strings.Join(parts, ",")
}

// flipRecord damages the middle record of the largest file in a member's database and
// returns the file's name and the record's index.
func flipRecord(t *testing.T, path string) (string, int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer db.Close()
	var bucket []byte
	most := 0
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if n := b.Stats().KeyN; n > most {
				bucket, most = append([]byte(nil), name...), n
			}
			return nil
		})
	}))
	require.Greater(t, most, 2, "no file with records to damage")
	index := most / 2
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		k := binary.BigEndian.AppendUint64(nil, uint64(index)+1)
		v := append([]byte(nil), b.Get(k)...)
		require.Greater(t, len(v), 4, "record %d of %q", index, bucket)
		v[len(v)-1] ^= 0xff // a byte of the record itself, after its 4-byte checksum
		return b.Put(k, v)
	}))
	file, ok := strings.CutPrefix(string(bucket), "f:")
	require.True(t, ok, "bucket %q is not a file", bucket)
	return file, index
}
