package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

func certsCommand() *cli.Command {
	dir := &cli.StringFlag{Name: "dir", Value: "certs", Usage: "directory holding ca.pem and ca-key.pem"}
	return &cli.Command{
		Name:  "certs",
		Usage: "make a CA and certificates for members and clients (mTLS)",
		Subcommands: []*cli.Command{
			{
				Name:  "init",
				Usage: "create a CA (ca.pem, ca-key.pem) in --dir",
				Flags: []cli.Flag{dir, &cli.DurationFlag{Name: "valid", Value: 10 * 365 * 24 * time.Hour, Usage: "validity"}},
				Action: func(c *cli.Context) error {
					if err := certsInit(c.String("dir"), c.Duration("valid")); err != nil {
						return cli.Exit("orrery certs init: "+err.Error(), 1)
					}
					fmt.Fprintf(c.App.Writer, "wrote %s and %s\n", filepath.Join(c.String("dir"), "ca.pem"), filepath.Join(c.String("dir"), "ca-key.pem"))
					return nil
				},
			},
			{
				Name:      "issue",
				Usage:     "issue NAME.pem and NAME-key.pem, signed by the CA in --dir, good for serving and for client auth",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{dir,
					&cli.StringFlag{Name: "hosts", Value: "127.0.0.1,localhost", Usage: "IP addresses and DNS names the certificate is valid for"},
					&cli.DurationFlag{Name: "valid", Value: 365 * 24 * time.Hour, Usage: "validity"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("certs issue: want one NAME")
					}
					name := c.Args().First()
					if name == "" || strings.ContainsAny(name, "/\\") || name == "ca" {
						return usagef("certs issue: bad name %q", name)
					}
					if err := certsIssue(c.String("dir"), name, c.String("hosts"), c.Duration("valid")); err != nil {
						return cli.Exit("orrery certs issue: "+err.Error(), 1)
					}
					fmt.Fprintf(c.App.Writer, "wrote %s.pem and %s-key.pem in %s\n", name, name, c.String("dir"))
					return nil
				},
			},
		},
	}
}

// newCert makes a key and the common part of a certificate for it: a random serial, the
// name, and validity from an hour ago (tolerating clock skew) for valid.
func newCert(name string, valid time.Duration) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	return key, &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(valid),
	}, nil
}

func certsInit(dir string, valid time.Duration) error {
	if _, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err == nil {
		return fmt.Errorf("%s already holds a CA; refusing to replace it", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, tmpl, err := newCert("orrery CA", valid)
	if err != nil {
		return err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return writePair(dir, "ca", der, key)
}

func certsIssue(dir, name, hosts string, valid time.Duration) error {
	caCert, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	key, tmpl, err := newCert(name, valid)
	if err != nil {
		return err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	return writePair(dir, name, der, key)
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, nil, fmt.Errorf("no CA in %s (run orrery certs init): %w", dir, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("ca.pem or ca-key.pem is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("ca.pem: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("ca-key.pem: %w", err)
	}
	return cert, key, nil
}

func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}
