package etcdapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/orrery/orrery/host/etcdapi"
	"github.com/orrery/orrery/host/etcdapi/etcdapitest"
	"github.com/orrery/orrery/internal/testtls"
)

func TestMutualTLS(t *testing.T) {
	ca := testtls.NewCA(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "server", x509.ExtKeyUsageServerAuth)}, ClientCAs: ca.Pool}
	c := startTLS(t, serverTLS)

	dial := func(certs []tls.Certificate) error {
		cli, err := clientv3.New(clientv3.Config{
			Endpoints: []string{"https://" + c}, DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
			TLS: &tls.Config{RootCAs: ca.Pool, Certificates: certs},
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
	require.NoError(t, dial([]tls.Certificate{ca.Issue(t, "client", x509.ExtKeyUsageClientAuth)}))
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
