package etcdapi_test

import (
	"context"
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

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/orrery/orrery/node/host/etcdapi"
	"github.com/orrery/orrery/node/host/etcdapi/etcdapitest"
)

// testCA issues certificates for the TLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t *testing.T, serial int64, usage x509.ExtKeyUsage) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "orrery"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, 2, x509.ExtKeyUsageServerAuth)}, ClientCAs: ca.pool}
	c := startTLS(t, serverTLS)

	dial := func(certs []tls.Certificate) error {
		cli, err := clientv3.New(clientv3.Config{
			Endpoints: []string{"https://" + c}, DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
			TLS: &tls.Config{RootCAs: ca.pool, Certificates: certs},
		})
		if err != nil {
			return err
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := cli.Put(ctx, "secure", "yes"); err != nil {
			return err
		}
		_, err = cli.Get(ctx, "secure")
		return err
	}
	require.NoError(t, dial([]tls.Certificate{ca.issue(t, 3, x509.ExtKeyUsageClientAuth)}))
	require.Error(t, dial(nil), "a client without a certificate is refused")
}

func startTLS(t *testing.T, cfg *tls.Config) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := etcdapitest.New(etcdapitest.Config{})
	srv := etcdapi.NewServer(b, etcdapi.Options{TLS: cfg})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		b.Close()
	})
	return lis.Addr().String()
}
