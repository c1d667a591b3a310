package e2e

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// TestIdentitySharedCA runs two organizations whose client certificates
// come from one CA, told apart by the subject rules of the configuration
// file: neither can act as the other.
func TestIdentitySharedCA(t *testing.T) {
	dir := t.TempDir()
	serverCA, shared := newCA(t, "server"), newCA(t, "shared")
	sc, sk := serverCA.issue(t, "orchestrator", "server")
	c1, k1 := shared.issue(t, "backend-1", "Org1")
	c2, k2 := shared.issue(t, "backend-2", "Org2")
	writeFile(t, dir, "shared.pem", shared.pem)
	config := writeFile(t, dir, "config.yaml", []byte(`channels:
  mychannel: [Org1MSP, Org2MSP]
client_cas:
  Org1MSP: {ca: shared.pem, subject: {organization: Org1}}
  Org2MSP:
    ca: shared.pem
    subject:
      organization: [Org2]
`))
	p := startProc(t, "--data", t.TempDir(), "--config", config,
		"--tls-cert", writeFile(t, dir, "server.pem", sc), "--tls-key", writeFile(t, dir, "server.key", sk))
	conn1 := dial(t, p.addr, clientCreds(t, serverCA, c1, k1))
	conn2 := dial(t, p.addr, clientCreds(t, serverCA, c2, k2))
	for _, tt := range []struct {
		name string
		o    *org
		code codes.Code
		msg  string
	}{
		{"org1 as itself", &org{id: "Org1MSP", channel: "mychannel", conn: conn1}, codes.OK, ""},
		{"org2 as itself", &org{id: "Org2MSP", channel: "mychannel", conn: conn2}, codes.OK, ""},
		{"org1's certificate with org2's header", &org{id: "Org2MSP", channel: "mychannel", conn: conn1}, codes.PermissionDenied, `does not belong to MSP id "Org2MSP"`},
		{"org2's certificate with org1's header", &org{id: "Org1MSP", channel: "mychannel", conn: conn2}, codes.PermissionDenied, `does not belong to MSP id "Org1MSP"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.o.organizations().RegisterOrganization(tt.o.ctx(), &protos.RegisterOrganizationParam{Address: "x:1"})
			if status.Code(err) != tt.code || !strings.Contains(status.Convert(err).Message(), tt.msg) {
				t.Fatalf("got %v, want %v with %q", err, tt.code, tt.msg)
			}
		})
	}
	o := &org{id: "Org1MSP", channel: "mychannel", conn: conn1}
	all := must(o.organizations().GetAllOrganizations(o.ctx(), &protos.GetAllOrganizationsParam{}))(t)
	if n := len(all.GetOrganizations()); n != 2 {
		t.Fatalf("%d organizations registered, want the two genuine ones", n)
	}
	p.stop()
}

// TestIdentitySharedCAWithoutRules: a configuration where two MSP ids
// share a CA without subject rules is refused at start-up, in one line.
func TestIdentitySharedCAWithoutRules(t *testing.T) {
	dir := t.TempDir()
	serverCA, shared := newCA(t, "server"), newCA(t, "shared")
	sc, sk := serverCA.issue(t, "orchestrator", "server")
	writeFile(t, dir, "shared.pem", shared.pem)
	config := writeFile(t, dir, "config.yaml", []byte("client_cas:\n  Org1MSP: shared.pem\n  Org2MSP: shared.pem\n"))
	_, stderr, code := runCLI(t, nil, "solo", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--config", config,
		"--tls-cert", writeFile(t, dir, "server.pem", sc), "--tls-key", writeFile(t, dir, "server.key", sk))
	if code == 0 || !strings.Contains(stderr, "share the CA") {
		t.Fatalf("exit %d, stderr %q; want a refusal naming the shared CA", code, stderr)
	}
}
