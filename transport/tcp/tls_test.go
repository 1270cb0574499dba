package tcp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ca is a throwaway certificate authority.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "orrery test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &ca{cert: cert, key: key, pool: pool}
}

// issue makes a member certificate that serves and dials on loopback.
func (c *ca) issue(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (c *ca) config(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: certs, RootCAs: c.pool, ClientCAs: c.pool, MinVersion: tls.VersionTLS13}
}

func TestMutualTLS(t *testing.T) {
	authority := newCA(t)
	withTLS := func(name string) func(*Config) {
		return func(c *Config) { c.TLS = authority.config(authority.issue(t, name)) }
	}
	a := start(t, 1, withTLS("n1"))
	b := start(t, 2, withTLS("n2"))
	require.NoError(t, a.SetPeer(2, b.addr()))
	require.NoError(t, b.SetPeer(1, a.addr()))
	sendUntil(t, a, b, "over tls")
	sendUntil(t, b, a, "over tls")

	stranger := newCA(t)
	frames := append(AppendFrame(nil, hello{from: 99, to: 2}.appendTo(nil)), AppendFrame(nil, []byte("let me in"))...)
	for _, tc := range []struct {
		name string
		cfg  *tls.Config // nil: plain TCP
	}{
		{"no client certificate", authority.config()},
		{"certificate from another CA", &tls.Config{
			Certificates: []tls.Certificate{stranger.issue(t, "n99")}, RootCAs: authority.pool, MinVersion: tls.VersionTLS13,
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
