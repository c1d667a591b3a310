package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

func TestMaxChannels(t *testing.T) {
	srv, _, _ := start(t, Options{MaxChannels: 2})
	c := protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), nil))
	for _, tt := range []struct {
		channel string
		code    codes.Code
	}{{"a", codes.OK}, {"b", codes.OK}, {"a", codes.OK}, {"c", codes.ResourceExhausted}, {"b", codes.OK}} {
		_, err := c.RegisterOrganization(headers("mspid", "Org1MSP", "channel", tt.channel), &protos.RegisterOrganizationParam{})
		if status.Code(err) != tt.code {
			t.Fatalf("channel %s: %v, want %v", tt.channel, err, tt.code)
		}
		if err != nil && !strings.Contains(status.Convert(err).Message(), "--max-channels") {
			t.Errorf("message %q does not name the flag", status.Convert(err).Message())
		}
	}
	// An invalid name is refused before it takes a slot.
	_, err := c.RegisterOrganization(headers("mspid", "Org1MSP", "channel", strings.Repeat("a", 250)), &protos.RegisterOrganizationParam{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("250-character channel: %v", err)
	}
}

func TestMaxChannelsIgnoredWithConfig(t *testing.T) {
	srv, _, _ := start(t, Options{MaxChannels: 1, Channels: map[string][]string{"a": {"Org1MSP"}, "b": {"Org1MSP"}}})
	c := protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), nil))
	for _, ch := range []string{"a", "b"} {
		if _, err := c.RegisterOrganization(headers("mspid", "Org1MSP", "channel", ch), &protos.RegisterOrganizationParam{}); err != nil {
			t.Fatalf("configured channel %s: %v", ch, err)
		}
	}
}

// openStream opens a subscription and waits for its first event, so that
// the server holds it open.
func openStream(t *testing.T, cc *grpc.ClientConn, mspID string) (protos.EventService_SubscribeToEventsClient, context.CancelFunc, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(headers("mspid", mspID, "channel", "mychannel"))
	s, err := protos.NewEventServiceClient(cc).SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{})
	if err == nil {
		_, err = s.Recv()
	}
	if err != nil {
		cancel()
	}
	return s, cancel, err
}

func TestStreamsPerOrg(t *testing.T) {
	srv, _, _ := start(t, Options{MaxStreamsPerOrg: 2})
	cc1, cc2 := dial(t, srv.Addr().String(), nil), dial(t, srv.Addr().String(), nil)
	_, cancel1, err := openStream(t, cc1, "Org1MSP")
	if err != nil {
		t.Fatal(err)
	}
	_, cancel2, err := openStream(t, cc2, "Org1MSP") // another connection, same organization
	if err != nil {
		t.Fatal(err)
	}
	defer cancel2()
	_, _, err = openStream(t, cc1, "Org1MSP")
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "--max-streams-per-org") {
		t.Fatalf("third stream of Org1MSP: %v, want ResourceExhausted naming the flag", err)
	}
	_, cancelOther, err := openStream(t, cc1, "Org2MSP")
	if err != nil {
		t.Fatalf("Org2MSP is not bound by Org1MSP's streams: %v", err)
	}
	cancelOther()
	// Once a stream ends its slot is free again; the server learns of the
	// cancellation asynchronously, so wait for that condition.
	cancel1()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, cancel, err := openStream(t, cc1, "Org1MSP")
		if err == nil {
			cancel()
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("after closing a stream: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMaxConcurrentStreams(t *testing.T) {
	for _, tt := range []struct {
		max  uint32
		code codes.Code
	}{{1, codes.DeadlineExceeded}, {0, codes.OK}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			srv, _, _ := start(t, Options{MaxConcurrentStreams: tt.max})
			cc := dial(t, srv.Addr().String(), nil)
			_, cancel, err := openStream(t, cc, "Org1MSP")
			if err != nil {
				t.Fatal(err)
			}
			defer cancel()
			// A second call on the same connection waits for a free stream.
			ctx, cancelCall := context.WithTimeout(headers("mspid", "Org1MSP", "channel", "mychannel"), 300*time.Millisecond)
			defer cancelCall()
			_, err = protos.NewOrganizationServiceClient(cc).RegisterOrganization(ctx, &protos.RegisterOrganizationParam{})
			if status.Code(err) != tt.code {
				t.Fatalf("second call: %v, want %v", err, tt.code)
			}
		})
	}
}

// certSpec describes a test client certificate.
type certSpec struct {
	org, ou         string
	dns             string
	uri             string
	notBefore, life time.Duration // from now
}

func (ca *pki) issueSpec(t *testing.T, s certSpec) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if s.life == 0 {
		s.life = 2 * time.Hour
	}
	if s.notBefore == 0 {
		s.notBefore = -time.Hour
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "user", Organization: []string{s.org}},
		NotBefore:    time.Now().Add(s.notBefore), NotAfter: time.Now().Add(s.notBefore + s.life),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if s.ou != "" {
		tmpl.Subject.OrganizationalUnit = []string{s.ou}
	}
	if s.dns != "" {
		tmpl.DNSNames = []string{s.dns}
	}
	if s.uri != "" {
		u, _ := url.Parse(s.uri)
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	pair, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// TestCertificateBoundToMSP runs two organizations whose certificates come
// from one CA, told apart by their subject rules, and a third with its own
// CA and a SAN rule.
func TestCertificateBoundToMSP(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverCA, shared, ca3 := newCA(t, "server-ca"), newCA(t, "shared-ca"), newCA(t, "org3-ca")
	sc, sk := serverCA.issue(t, "server")
	sharedFile := write("shared.pem", shared.pem)
	srv, _, _ := start(t, Options{
		TLSCert: write("server.pem", sc), TLSKey: write("server.key", sk),
		ClientCAs: map[string]ClientCA{
			"Org1MSP": {CA: sharedFile, Subject: SubjectRule{Organization: stringList{"Org1"}}},
			"Org2MSP": {CA: sharedFile, Subject: SubjectRule{Organization: stringList{"Org2"}, OU: stringList{"client", "admin"}}},
			"Org3MSP": {CA: write("ca3.pem", ca3.pem), Subject: SubjectRule{SAN: "*.org3.example.com"}},
		},
	})
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)
	client := func(certs ...tls.Certificate) protos.OrganizationServiceClient {
		creds := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: certs, ServerName: "localhost"})
		return protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), creds))
	}
	org1 := client(shared.issueSpec(t, certSpec{org: "Org1"}))
	org2 := client(shared.issueSpec(t, certSpec{org: "Org2", ou: "client"}))
	for _, tt := range []struct {
		name string
		c    protos.OrganizationServiceClient
		msp  string
		code codes.Code
		msg  string
	}{
		{"org1 as org1", org1, "Org1MSP", codes.OK, ""},
		{"org2 as org2", org2, "Org2MSP", codes.OK, ""},
		{"org1 as org2, same CA", org1, "Org2MSP", codes.PermissionDenied, `does not belong to MSP id "Org2MSP": its members need organization in [Org2] and OU in [client, admin]`},
		{"org2 as org1, same CA", org2, "Org1MSP", codes.PermissionDenied, `does not belong to MSP id "Org1MSP"`},
		{"org2 without its OU", client(shared.issueSpec(t, certSpec{org: "Org2", ou: "peer"})), "Org2MSP", codes.PermissionDenied, "OU in [client, admin]"},
		{"shared-CA cert as org3", org1, "Org3MSP", codes.PermissionDenied, `not issued by the CA of MSP id "Org3MSP"`},
		{"org3 with its SAN", client(ca3.issueSpec(t, certSpec{org: "x", dns: "backend.org3.example.com"})), "Org3MSP", codes.OK, ""},
		{"org3 with a URI SAN", client(ca3.issueSpec(t, certSpec{org: "x", uri: "spiffe://a.org3.example.com"})), "Org3MSP", codes.PermissionDenied, "a SAN matching *.org3.example.com"},
		{"org3 with another SAN", client(ca3.issueSpec(t, certSpec{org: "x", dns: "backend.org1.example.com"})), "Org3MSP", codes.PermissionDenied, "a SAN matching"},
		{"expired", client(shared.issueSpec(t, certSpec{org: "Org1", notBefore: -2 * time.Hour, life: time.Hour})), "Org1MSP", codes.Unauthenticated, "expired at"},
		{"not yet valid", client(shared.issueSpec(t, certSpec{org: "Org1", notBefore: time.Hour})), "Org1MSP", codes.Unauthenticated, "not valid before"},
		{"unknown CA", client(newCA(t, "shared-ca").issueSpec(t, certSpec{org: "Org1"})), "Org1MSP", codes.Unauthenticated, "not issued by any configured client CA"},
		{"no certificate", client(), "Org1MSP", codes.Unauthenticated, "a client certificate is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second call may hit the verification cache
				_, err := tt.c.RegisterOrganization(headers("mspid", tt.msp, "channel", "mychannel"), &protos.RegisterOrganizationParam{})
				if status.Code(err) != tt.code || !strings.Contains(status.Convert(err).Message(), tt.msg) {
					t.Fatalf("got %v, want %v with %q", err, tt.code, tt.msg)
				}
			}
		})
	}
}

func TestSharedCANeedsSubjectRules(t *testing.T) {
	dir := t.TempDir()
	serverCA, shared := newCA(t, "server-ca"), newCA(t, "shared-ca")
	sc, sk := serverCA.issue(t, "server")
	cert, key, ca := filepath.Join(dir, "s.pem"), filepath.Join(dir, "s.key"), filepath.Join(dir, "ca.pem")
	os.WriteFile(cert, sc, 0o600)
	os.WriteFile(key, sk, 0o600)
	os.WriteFile(ca, shared.pem, 0o600)
	_, err := New(Options{
		Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key, Bind: testBind, Register: func(*grpc.Server) {},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		ClientCAs: map[string]ClientCA{"Org1MSP": {CA: ca}, "Org2MSP": {CA: ca, Subject: SubjectRule{Organization: stringList{"Org2"}}}},
	})
	if err == nil || !strings.Contains(err.Error(), "share the CA") {
		t.Fatalf("err = %v, want a refusal of the shared CA without rules", err)
	}
}

func TestVerifiedCacheBounded(t *testing.T) {
	var c verifiedCache
	now := time.Now()
	for i := range 3 * maxVerified {
		c.add(fmt.Sprint(i), now.Add(time.Hour), now)
	}
	if n := len(c.m); n > maxVerified {
		t.Fatalf("cache holds %d entries, bound %d", n, maxVerified)
	}
	c.add("x", now.Add(time.Minute), now)
	if !c.ok("x", now) || c.ok("x", now.Add(2*time.Minute)) {
		t.Error("an entry must be good until its certificate expires, and no longer")
	}
}

func TestMaxConnections(t *testing.T) {
	srv, _, _ := start(t, Options{MaxConnections: 2})
	call := func(cc *grpc.ClientConn) error {
		ctx, cancel := context.WithTimeout(headers("mspid", "Org1MSP", "channel", "mychannel"), 2*time.Second)
		defer cancel()
		_, err := protos.NewOrganizationServiceClient(cc).RegisterOrganization(ctx, &protos.RegisterOrganizationParam{})
		return err
	}
	cc1, cc2 := dial(t, srv.Addr().String(), nil), dial(t, srv.Addr().String(), nil)
	for _, cc := range []*grpc.ClientConn{cc1, cc2} {
		if err := call(cc); err != nil {
			t.Fatal(err)
		}
	}
	cc3 := dial(t, srv.Addr().String(), nil)
	if err := call(cc3); status.Code(err) != codes.Unavailable {
		t.Fatalf("third connection: %v, want Unavailable", err)
	}
	if n := srv.lis.(*limitListener).refused.Load(); n == 0 {
		t.Fatal("no connection was refused")
	}
	// A closed connection frees its slot: the third one gets in on a
	// later attempt (the client reconnects with backoff).
	cc1.Close()
	deadline := time.Now().Add(10 * time.Second)
	for err := call(cc3); err != nil; err = call(cc3) {
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			t.Fatalf("after closing a connection: %v", err)
		}
	}
}
