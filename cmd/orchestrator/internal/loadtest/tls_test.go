package loadtest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/loadtest"
)

// pki is a throwaway certificate authority.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string // file of the CA certificate
}

var serial int64 = 1

// issue writes a certificate (a CA when parent is nil) and its key under
// dir, named name.pem and name.key, and returns the CA it makes.
func issue(t *testing.T, dir, name string, parent *pki, tmpl *x509.Certificate) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.Subject = pkix.Name{CommonName: name}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, name+".pem")
	write(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &pki{cert: cert, key: key, pem: certFile}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRunWithMutualTLS runs a tiny workload over TLS, each organization
// presenting a client certificate of its own CA, which the server checks
// against the mspid header; then with the organizations' certificates
// swapped, which the server must refuse.
func TestRunWithMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and runs the server")
	}
	dir := t.TempDir()
	serverCA := issue(t, dir, "server-ca", nil, &x509.Certificate{})
	issue(t, dir, "server", serverCA, &x509.Certificate{
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	})
	client := func(org string) loadtest.CertKey {
		ca := issue(t, dir, org+"-ca", nil, &x509.Certificate{})
		issue(t, dir, org, ca, &x509.Certificate{
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			KeyUsage:    x509.KeyUsageDigitalSignature,
		})
		return loadtest.CertKey{Cert: filepath.Join(dir, org+".pem"), Key: filepath.Join(dir, org+".key")}
	}
	org1, org2 := client("MyOrg1MSP"), client("MyOrg2MSP")
	addr := startServer(t,
		"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server.key"),
		"--client-ca", "MyOrg1MSP="+filepath.Join(dir, "MyOrg1MSP-ca.pem"),
		"--client-ca", "MyOrg2MSP="+filepath.Join(dir, "MyOrg2MSP-ca.pem"),
	)

	cfg := smallConfig(addr, 2001)
	cfg.Functions, cfg.Samples, cfg.Plans, cfg.TasksPerPlan, cfg.GetTasks = 2, 6, 2, 3, 10
	cfg.TLSCA = serverCA.pem
	cfg.ClientCerts = map[string]loadtest.CertKey{"MyOrg1MSP": org1, "MyOrg2MSP": org2}
	var out bytes.Buffer
	if _, err := loadtest.Run(context.Background(), cfg, &out); err != nil {
		t.Fatalf("mutual TLS run: %v\n%s", err, out.String())
	}

	// Swapped certificates: each organization claims its name with the
	// other's certificate.
	cfg.Seed = 2002
	cfg.MaxErrors = 2
	cfg.ClientCerts = map[string]loadtest.CertKey{"MyOrg1MSP": org2, "MyOrg2MSP": org1}
	out.Reset()
	rep, err := loadtest.Run(context.Background(), cfg, &out)
	if err == nil || rep == nil || rep.Errors == 0 || !strings.Contains(out.String(), "[PermissionDenied]") {
		t.Fatalf("swapped certificates: err %v; want PermissionDenied errors\n%s", err, out.String())
	}
}
