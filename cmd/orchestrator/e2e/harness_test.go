package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/fedchain/orchestrator/protos"
)

// binary is the orchestrator binary under test, built by TestMain.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || external() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "orchestrator-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "orchestrator")
	build := exec.Command("go", "build", "-o", binary, "github.com/fedchain/orchestrator/cmd/orchestrator")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the orchestrator:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test (runs the binary); skipped with -short")
	}
	needOwnServer(t)
}

// proc is a running orchestrator process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	done chan struct{}
	err  error // exit error, once done is closed

	mu  sync.Mutex
	log bytes.Buffer // stderr
}

// Log returns what the process wrote on stderr so far.
func (p *proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startProc runs `orchestrator solo` with args (and --listen on a free
// port, JSON logs) and waits until it listens.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	needBinary(t)
	needOwnServer(t)
	args = append([]string{"solo", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "orchestrator listening" {
				addr <- rec.Addr
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-addr:
	case <-p.done:
		t.Fatalf("orchestrator exited at start-up (%v):\n%s", p.err, p.Log())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("orchestrator did not start:\n%s", p.Log())
	}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("orchestrator log:\n%s", p.Log())
		}
	})
	return p
}

// cleanEnv is the test's environment without ORCHESTRATOR_ variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORCHESTRATOR_") {
			env = append(env, kv)
		}
	}
	return env
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("orchestrator did not stop on SIGTERM:\n%s", p.Log())
	}
	if p.err != nil {
		p.t.Fatalf("orchestrator exited with %v:\n%s", p.err, p.Log())
	}
}

// kill kills the process with SIGKILL.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// runCLI runs the binary to completion and returns its outputs and exit
// code.
func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	needBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code <= 0 {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// org is one organization's backend: a connection and its headers.
type org struct {
	id      string
	channel string
	conn    *grpc.ClientConn
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

func newOrg(t *testing.T, addr, id, channel string) *org {
	return &org{id: id, channel: channel, conn: dial(t, addr, nil)}
}

// external reports whether the tests run against servers started by
// someone else: E2E_ADDR (Org1MSP's server) and E2E_ADDR2 (Org2MSP's,
// default E2E_ADDR), channel mychannel, plaintext. Tests that need to
// control the process are skipped then.
func external() bool { return os.Getenv("E2E_ADDR") != "" }

// serverUnderTest returns the addresses Org1MSP and Org2MSP call, and a
// function that stops the server (and checks it stops cleanly): an external
// server, or an embedded-store process started for the test.
func serverUnderTest(t *testing.T, args ...string) (addr1, addr2 string, stop func()) {
	t.Helper()
	if external() {
		addr1, addr2 = os.Getenv("E2E_ADDR"), os.Getenv("E2E_ADDR2")
		if addr2 == "" {
			addr2 = addr1
		}
		return addr1, addr2, func() {}
	}
	p := startProc(t, append([]string{"--data", t.TempDir()}, args...)...)
	return p.addr, p.addr, p.stop
}

// needOwnServer skips a test that must start and stop its own server.
func needOwnServer(t *testing.T) {
	t.Helper()
	if external() {
		t.Skip("controls its own server process; E2E_ADDR is set")
	}
}

// lastEventID returns the id of the newest event of o's channel ("" for a
// fresh server).
func lastEventID(t *testing.T, o *org) string {
	t.Helper()
	if !external() {
		return ""
	}
	r := must(o.events().QueryEvents(o.ctx(), &protos.QueryEventsParam{PageSize: 1, Sort: protos.SortOrder_DESCENDING}))(t)
	if len(r.GetEvents()) == 0 {
		return ""
	}
	return r.GetEvents()[0].GetId()
}

// eventsAfter returns the events that QueryEvents lists after the event
// with id after (all of them when after is "").
func eventsAfter(t *testing.T, o *org, after string) []*protos.Event {
	t.Helper()
	evs := allEvents(t, o)
	if after == "" {
		return evs
	}
	for i, e := range evs {
		if e.GetId() == after {
			return evs[i+1:]
		}
	}
	t.Fatalf("event %s not in QueryEvents", after)
	return nil
}

// ctx returns a call context with the organization's headers.
func (o *org) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_ = cancel // released by the timeout; tests are short
	return metadata.AppendToOutgoingContext(ctx, "mspid", o.id, "channel", o.channel)
}

func (o *org) organizations() protos.OrganizationServiceClient {
	return protos.NewOrganizationServiceClient(o.conn)
}
func (o *org) functions() protos.FunctionServiceClient {
	return protos.NewFunctionServiceClient(o.conn)
}
func (o *org) managers() protos.DataManagerServiceClient {
	return protos.NewDataManagerServiceClient(o.conn)
}
func (o *org) samples() protos.DataSampleServiceClient {
	return protos.NewDataSampleServiceClient(o.conn)
}
func (o *org) datasets() protos.DatasetServiceClient { return protos.NewDatasetServiceClient(o.conn) }
func (o *org) plans() protos.ComputePlanServiceClient {
	return protos.NewComputePlanServiceClient(o.conn)
}
func (o *org) tasks() protos.ComputeTaskServiceClient {
	return protos.NewComputeTaskServiceClient(o.conn)
}
func (o *org) models() protos.ModelServiceClient { return protos.NewModelServiceClient(o.conn) }
func (o *org) perfs() protos.PerformanceServiceClient {
	return protos.NewPerformanceServiceClient(o.conn)
}
func (o *org) failures() protos.FailureReportServiceClient {
	return protos.NewFailureReportServiceClient(o.conn)
}
func (o *org) profiling() protos.ProfilingServiceClient {
	return protos.NewProfilingServiceClient(o.conn)
}
func (o *org) events() protos.EventServiceClient { return protos.NewEventServiceClient(o.conn) }
func (o *org) info() protos.InfoServiceClient    { return protos.NewInfoServiceClient(o.conn) }

// must returns v, after failing the test on err: must(call(...))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// allEvents reads the whole event log of o's channel with QueryEvents.
func allEvents(t *testing.T, o *org) []*protos.Event {
	t.Helper()
	var out []*protos.Event
	token := ""
	for {
		r := must(o.events().QueryEvents(o.ctx(), &protos.QueryEventsParam{PageToken: token, PageSize: 500}))(t)
		out = append(out, r.GetEvents()...)
		if r.GetNextPageToken() == "" {
			return out
		}
		token = r.GetNextPageToken()
	}
}

// subscribe reads n events of a SubscribeToEvents stream from after.
func subscribe(t *testing.T, o *org, after string, n int) []*protos.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(o.ctx(), 30*time.Second)
	defer cancel()
	s, err := o.events().SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{StartEventId: after})
	if err != nil {
		t.Fatal(err)
	}
	var out []*protos.Event
	for len(out) < n {
		ev, err := s.Recv()
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		out = append(out, ev)
	}
	return out
}

// Test PKI.

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name + " CA", Organization: []string{name}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key))(t)
	cert := must(x509.ParseCertificate(der))(t)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key (PEM) for cn in organization org,
// usable by a server on 127.0.0.1 and by a client.
func (ca *testCA) issue(t *testing.T, cn, org string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key))(t)
	kb := must(x509.MarshalECPrivateKey(key))(t)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// clientCreds returns TLS credentials trusting root, with a client
// certificate when cert is not nil.
func clientCreds(t *testing.T, root *testCA, cert, key []byte) credentials.TransportCredentials {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(root.cert)
	c := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	if cert != nil {
		c.Certificates = []tls.Certificate{must(tls.X509KeyPair(cert, key))(t)}
	}
	return credentials.NewTLS(c)
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
