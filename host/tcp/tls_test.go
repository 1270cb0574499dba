package tcp

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/internal/testtls"
)

// config is a mutual TLS configuration trusting only c.
func config(c *testtls.CA, certs ...tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: certs, RootCAs: c.Pool, ClientCAs: c.Pool, MinVersion: tls.VersionTLS13}
}

func TestMutualTLS(t *testing.T) {
	authority := testtls.NewCA(t)
	withTLS := func(name string) func(*Config) {
		return func(c *Config) { c.TLS = config(authority, authority.Issue(t, name)) }
	}
	a := start(t, 1, withTLS("n1"))
	b := start(t, 2, withTLS("n2"))
	require.NoError(t, a.SetPeer(2, b.addr()))
	require.NoError(t, b.SetPeer(1, a.addr()))
	sendUntil(t, a, b, "over tls")
	sendUntil(t, b, a, "over tls")

	stranger := testtls.NewCA(t)
	frames := append(AppendFrame(nil, hello{from: 99, to: 2}.appendTo(nil)), AppendFrame(nil, []byte("let me in"))...)
	for _, tc := range []struct {
		name string
		cfg  *tls.Config // nil: plain TCP
	}{
		{"no client certificate", config(authority)},
		{"certificate from another CA", &tls.Config{
			Certificates: []tls.Certificate{stranger.Issue(t, "n99")}, RootCAs: authority.Pool, MinVersion: tls.VersionTLS13,
		}},
		{"plain TCP", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.Stats().Total.BadFrames
			var conn net.Conn
			var err error
			if tc.cfg == nil {
				conn, err = net.Dial("tcp", b.addr())
			} else {
				// With TLS 1.3 the client finishes its side before the server has judged
				// its certificate, so the refusal shows up on the first read.
				conn, err = tls.Dial("tcp", b.addr(), tc.cfg)
			}
			if err == nil {
				defer conn.Close()
				conn.Write(frames) // may already fail: the refusal can come first
				requireClosedByServer(t, conn)
			}
			eventually(t, func() bool { return b.Stats().Total.BadFrames == before+1 }, "refusal not counted")
			assert.Zero(t, b.in.count(99))
		})
	}
	sendUntil(t, a, b, "still fine")
}
