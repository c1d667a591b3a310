package main

import (
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

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/compactwire"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

func TestServerConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile, certFile := writeKeyPair(t, dir)
	tests := []struct {
		name    string
		env     map[string]string
		wantOK  bool
		wantErr string
		check   func(t *testing.T, cfg serverConfig)
	}{
		{name: "peer launched", env: map[string]string{}},
		{name: "address only", env: map[string]string{envAddress: ":9999"}, wantErr: "CHAINCODE_SERVER_ADDRESS is set but CHAINCODE_ID"},
		{name: "id only", env: map[string]string{envID: "cc:1"}, wantErr: "CHAINCODE_ID is set but CHAINCODE_SERVER_ADDRESS"},
		{
			name:   "tls disabled",
			env:    map[string]string{envAddress: "127.0.0.1:9999", envID: "cc:1", envTLSDisabled: "true"},
			wantOK: true,
			check: func(t *testing.T, cfg serverConfig) {
				if !cfg.TLS.Disabled || cfg.Address != "127.0.0.1:9999" || cfg.ID != "cc:1" {
					t.Errorf("cfg = %+v", cfg)
				}
			},
		},
		{name: "bad bool", env: map[string]string{envAddress: "a:1", envID: "cc:1", envTLSDisabled: "maybe"}, wantErr: envTLSDisabled},
		{name: "tls without files", env: map[string]string{envAddress: "a:1", envID: "cc:1"}, wantErr: "TLS needs"},
		{name: "missing key file", env: map[string]string{envAddress: "a:1", envID: "cc:1", envTLSKey: filepath.Join(dir, "nope"), envTLSCert: certFile}, wantErr: envTLSKey},
		{
			name:   "tls with client ca",
			env:    map[string]string{envAddress: "a:1", envID: "cc:1", envTLSKey: keyFile, envTLSCert: certFile, envClientCA: certFile},
			wantOK: true,
			check: func(t *testing.T, cfg serverConfig) {
				if cfg.TLS.Disabled || len(cfg.TLS.Key) == 0 || len(cfg.TLS.Cert) == 0 || len(cfg.TLS.ClientCACerts) == 0 {
					t.Errorf("TLS properties not loaded: %+v", cfg.TLS)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := serverConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

func TestRunRefusesWithoutAnyConfiguration(t *testing.T) {
	err := run(func() (shim.Chaincode, error) { return stubChaincode{}, nil }, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), envAddress) {
		t.Fatalf("err = %v, want a hint about %s", err, envAddress)
	}
}

func TestRunServesAsAService(t *testing.T) {
	addr := freeAddress(t)
	env := map[string]string{envAddress: addr, envID: "orchestrator:abc", envTLSDisabled: "true"}
	done := make(chan error, 1)
	go func() {
		done <- run(func() (shim.Chaincode, error) { return stubChaincode{}, nil }, func(k string) string { return env[k] })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("server ended: %v", err)
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("chaincode server never listened on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type stubChaincode struct{}

func (stubChaincode) Init(shim.ChaincodeStubInterface) *peer.Response   { return shim.Success(nil) }
func (stubChaincode) Invoke(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeKeyPair(t *testing.T, dir string) (keyFile, certFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "chaincode"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile, certFile
}

// TestNewChaincodeServesCompact: the binary's chaincode answers a compact
// request in compact form, and a plain one plainly.
func TestNewChaincodeServesCompact(t *testing.T) {
	cc, err := newChaincode("test")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := compactwire.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	p := solo.New(cc, memstore.Opener())
	t.Cleanup(func() { p.Close() })
	tx := []byte("orchestrator.info:QueryVersion")
	req, err := proto.Marshal(&protos.QueryVersionParam{})
	if err != nil {
		t.Fatal(err)
	}
	for _, compactForm := range []bool{false, true} {
		arg := req
		if compactForm {
			arg = codec.Encode(req)
		}
		r, err := p.Evaluate(context.Background(), solo.Proposal{Channel: "mychannel", Creator: solo.Identity{MSPID: "Org1MSP"}, Args: [][]byte{tx, arg}})
		if err != nil {
			t.Fatal(err)
		}
		if compactwire.IsCompact(r.Payload) != compactForm {
			t.Fatalf("compact request %v: answer % x", compactForm, r.Payload)
		}
		plain, err := codec.Decode(r.Payload)
		if err != nil {
			t.Fatal(err)
		}
		var v protos.QueryVersionResponse
		if err := proto.Unmarshal(plain, &v); err != nil || !strings.Contains(prototext.Format(&v), "test") {
			t.Fatalf("compact request %v: answer %v, %v; want the version", compactForm, &v, err)
		}
	}
}
