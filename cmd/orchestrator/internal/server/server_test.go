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
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

type testCallerKey struct{}

func testBind(ctx context.Context, mspID, channel string) context.Context {
	return context.WithValue(ctx, testCallerKey{}, mspID+"@"+channel)
}

// fakeAPI answers with the caller it sees.
type fakeAPI struct {
	protos.UnimplementedOrganizationServiceServer
	protos.UnimplementedFunctionServiceServer
	protos.UnimplementedEventServiceServer
	lastPageSize atomic.Uint32
	started      chan struct{}
	release      chan struct{} // ends the "slow" call
	slowDone     atomic.Bool
}

func (f *fakeAPI) RegisterOrganization(ctx context.Context, req *protos.RegisterOrganizationParam) (*protos.Organization, error) {
	if req.GetAddress() == "slow" {
		close(f.started)
		<-f.release
		defer f.slowDone.Store(true)
	}
	if req.GetAddress() == "panic" {
		panic("boom")
	}
	if req.GetAddress() == "wait" {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	who, _ := ctx.Value(testCallerKey{}).(string)
	return &protos.Organization{Id: who}, nil
}

func (f *fakeAPI) QueryFunctions(_ context.Context, req *protos.QueryFunctionsParam) (*protos.QueryFunctionsResponse, error) {
	f.lastPageSize.Store(req.GetPageSize())
	return &protos.QueryFunctionsResponse{}, nil
}

func (f *fakeAPI) SubscribeToEvents(_ *protos.SubscribeToEventsParam, s grpc.ServerStreamingServer[protos.Event]) error {
	if err := s.Send(&protos.Event{Id: "e1"}); err != nil {
		return err
	}
	<-s.Context().Done()
	return status.FromContextError(s.Context().Err()).Err()
}

func start(t *testing.T, o Options) (*Server, *fakeAPI, func()) {
	t.Helper()
	api := &fakeAPI{started: make(chan struct{}), release: make(chan struct{})}
	o.Listen = "127.0.0.1:0"
	o.Bind = testBind
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o.Register = func(s *grpc.Server) {
		protos.RegisterOrganizationServiceServer(s, api)
		protos.RegisterFunctionServiceServer(s, api)
		protos.RegisterEventServiceServer(s, api)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(func() {
		select {
		case <-ctx.Done():
		default:
			stop()
		}
	})
	return srv, api, stop
}

func dial(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func headers(kv ...string) context.Context {
	return metadata.NewOutgoingContext(context.Background(), metadata.Pairs(kv...))
}

func TestIdentityHeaders(t *testing.T) {
	srv, _, _ := start(t, Options{Channels: map[string][]string{"mychannel": {"Org1MSP"}, "other": {"Org2MSP"}}})
	c := protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), nil))
	tests := []struct {
		name    string
		ctx     context.Context
		code    codes.Code
		message string
	}{
		{"ok", headers("mspid", "Org1MSP", "channel", "mychannel"), codes.OK, ""},
		{"no mspid", headers("channel", "mychannel"), codes.FailedPrecondition, "OE0003: missing or invalid header 'mspid'"},
		{"empty mspid", headers("mspid", "", "channel", "mychannel"), codes.FailedPrecondition, "OE0003"},
		{"two mspids", headers("mspid", "a", "mspid", "b", "channel", "mychannel"), codes.FailedPrecondition, "OE0003"},
		{"no channel", headers("mspid", "Org1MSP"), codes.Unknown, "missing or invalid header 'channel'"},
		{"bad channel name", headers("mspid", "Org1MSP", "channel", "My_Channel"), codes.InvalidArgument, "invalid channel name"},
		{"not a member", headers("mspid", "Org1MSP", "channel", "other"), codes.PermissionDenied, `OE0102: organization "Org1MSP" has no access to channel "other"`},
		{"unknown channel", headers("mspid", "Org1MSP", "channel", "nochannel"), codes.PermissionDenied, "OE0102"},
		{"unknown org", headers("mspid", "Org9MSP", "channel", "mychannel"), codes.PermissionDenied, "OE0102"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org, err := c.RegisterOrganization(tt.ctx, &protos.RegisterOrganizationParam{})
			if status.Code(err) != tt.code {
				t.Fatalf("code = %v (%v), want %v", status.Code(err), err, tt.code)
			}
			if err != nil && !strings.Contains(status.Convert(err).Message(), tt.message) {
				t.Errorf("message = %q, want it to contain %q", status.Convert(err).Message(), tt.message)
			}
			if err == nil && org.GetId() != "Org1MSP@mychannel" {
				t.Errorf("handler saw caller %q", org.GetId())
			}
		})
	}
}

func TestOpenChannelsWithoutConfig(t *testing.T) {
	srv, _, _ := start(t, Options{})
	c := protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), nil))
	org, err := c.RegisterOrganization(headers("mspid", "AnyMSP", "channel", "anychannel"), &protos.RegisterOrganizationParam{})
	if err != nil || org.GetId() != "AnyMSP@anychannel" {
		t.Fatalf("got %v, %v", org, err)
	}
}

func TestPageSize(t *testing.T) {
	srv, api, _ := start(t, Options{MaxPageSize: 1000})
	c := protos.NewFunctionServiceClient(dial(t, srv.Addr().String(), nil))
	ctx := headers("mspid", "Org1MSP", "channel", "mychannel")
	for _, tt := range []struct {
		size, seen uint32
		code       codes.Code
	}{{0, DefaultPageSize, codes.OK}, {7, 7, codes.OK}, {1000, 1000, codes.OK}, {1001, 0, codes.InvalidArgument}} {
		api.lastPageSize.Store(0)
		_, err := c.QueryFunctions(ctx, &protos.QueryFunctionsParam{PageSize: tt.size})
		if status.Code(err) != tt.code {
			t.Fatalf("page size %d: code %v (%v), want %v", tt.size, status.Code(err), err, tt.code)
		}
		if got := api.lastPageSize.Load(); got != tt.seen {
			t.Errorf("page size %d: handler saw %d, want %d", tt.size, got, tt.seen)
		}
	}
}

func TestRecoveryAndRequestID(t *testing.T) {
	srv, _, _ := start(t, Options{})
	c := protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), nil))
	var hdr metadata.MD
	ctx := headers("mspid", "Org1MSP", "channel", "mychannel", "x-request-id", "req-42")
	_, err := c.RegisterOrganization(ctx, &protos.RegisterOrganizationParam{Address: "panic"}, grpc.Header(&hdr))
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "req-42") {
		t.Fatalf("panic gave %v", err)
	}
	if got := hdr.Get(HeaderRequestID); len(got) != 1 || got[0] != "req-42" {
		t.Errorf("request id header = %v", got)
	}
	// The server still serves.
	if _, err := c.RegisterOrganization(ctx, &protos.RegisterOrganizationParam{}); err != nil {
		t.Fatal(err)
	}
}

func TestLimits(t *testing.T) {
	srv, _, _ := start(t, Options{MaxMessageBytes: 4096, RequestTimeout: 100 * time.Millisecond})
	c := protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), nil))
	ctx := headers("mspid", "Org1MSP", "channel", "mychannel")
	if _, err := c.RegisterOrganization(ctx, &protos.RegisterOrganizationParam{Address: strings.Repeat("x", 5000)}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized request: %v", err)
	}
	start := time.Now()
	if _, err := c.RegisterOrganization(ctx, &protos.RegisterOrganizationParam{Address: "wait"}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("call without deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the default deadline took %v", d)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.RegisterOrganization(short, &protos.RegisterOrganizationParam{Address: "wait"}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("call with a deadline: %v", err)
	}
}

func TestHealthAndReflectionNeedNoHeaders(t *testing.T) {
	srv, _, _ := start(t, Options{Channels: map[string][]string{"mychannel": {"Org1MSP"}}})
	cc := dial(t, srv.Addr().String(), nil)
	resp, err := healthpb.NewHealthClient(cc).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", resp, err)
	}
	st, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range r.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !strings.Contains(strings.Join(names, " "), "orchestrator.OrganizationService") {
		t.Errorf("reflection lists %v", names)
	}
}

func TestGracefulShutdown(t *testing.T) {
	srv, api, stop := start(t, Options{})
	cc := dial(t, srv.Addr().String(), nil)
	ctx := headers("mspid", "Org1MSP", "channel", "mychannel")
	stream, err := protos.NewEventServiceClient(cc).SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() {
		_, err := protos.NewOrganizationServiceClient(cc).RegisterOrganization(ctx, &protos.RegisterOrganizationParam{Address: "slow"})
		slow <- err
	}()
	<-api.started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }() // returns once the in-flight call has finished
	// Let the call finish only once the shutdown has begun.
	for srv.streams.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatal("Serve returned while a call was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(api.release)
	<-stopped
	if !api.slowDone.Load() {
		t.Error("Serve returned before the in-flight call finished")
	}
	select {
	case err := <-slow:
		if err != nil {
			t.Errorf("in-flight call failed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the in-flight call got no answer")
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("open stream ended with %v, want Unavailable", err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts connections")
	}
}

func TestStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"port taken", Options{Listen: busy.Addr().String()}, "address already in use"},
		{"metrics port taken", Options{Listen: "127.0.0.1:0", MetricsListen: busy.Addr().String()}, "metrics: listen"},
		{"cert without key", Options{Listen: "127.0.0.1:0", TLSCert: bad}, "--tls-cert and --tls-key go together"},
		{"bad cert", Options{Listen: "127.0.0.1:0", TLSCert: bad, TLSKey: bad}, "TLS certificate"},
		{"client CA without TLS", Options{Listen: "127.0.0.1:0", ClientCAs: map[string]ClientCA{"Org1MSP": {CA: bad}}}, "need TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Bind, tt.o.Register = testBind, func(*grpc.Server) {}
			tt.o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			_, err := New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tt.want)
			}
		})
	}
}

// pki is a test CA.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate and key (PEM) for cn, valid for
// 127.0.0.1 as a server and as a client.
func (ca *pki) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{cn}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverCA, ca1, ca2 := newCA(t, "server-ca"), newCA(t, "Org1MSP"), newCA(t, "Org2MSP")
	sc, sk := serverCA.issue(t, "server")
	srv, _, _ := start(t, Options{
		TLSCert: write("server.pem", sc), TLSKey: write("server.key", sk),
		ClientCAs: map[string]ClientCA{"Org1MSP": {CA: write("ca1.pem", ca1.pem)}, "Org2MSP": {CA: write("ca2.pem", ca2.pem)}},
	})
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)
	client := func(ca *pki, cn string) protos.OrganizationServiceClient {
		var certs []tls.Certificate
		if ca != nil {
			c, k := ca.issue(t, cn)
			pair, err := tls.X509KeyPair(c, k)
			if err != nil {
				t.Fatal(err)
			}
			certs = append(certs, pair)
		}
		creds := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: certs, ServerName: "localhost"})
		return protos.NewOrganizationServiceClient(dial(t, srv.Addr().String(), creds))
	}
	org1, org2, stranger := client(ca1, "Org1MSP"), client(ca2, "Org2MSP"), client(newCA(t, "x"), "Org1MSP")
	for _, tt := range []struct {
		name string
		c    protos.OrganizationServiceClient
		msp  string
		code codes.Code
	}{
		{"org1 as org1", org1, "Org1MSP", codes.OK},
		{"org2 as org2", org2, "Org2MSP", codes.OK},
		{"org1 as org2", org1, "Org2MSP", codes.PermissionDenied},
		{"org1 as unknown org", org1, "Org3MSP", codes.PermissionDenied},
		{"cert of an unknown CA", stranger, "Org1MSP", codes.Unauthenticated},
		{"no client cert", client(nil, ""), "Org1MSP", codes.Unauthenticated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second call hits the verification cache
				_, err := tt.c.RegisterOrganization(headers("mspid", tt.msp, "channel", "mychannel"), &protos.RegisterOrganizationParam{})
				if status.Code(err) != tt.code {
					t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.code)
				}
			}
		})
	}
}
