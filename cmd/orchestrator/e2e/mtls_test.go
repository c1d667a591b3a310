package e2e

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// TestMutualTLS runs two organizations, each with its own client CA, and a
// channel only one of them belongs to.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, ca1, ca2 := newCA(t, "server"), newCA(t, "Org1MSP"), newCA(t, "Org2MSP")
	sc, sk := serverCA.issue(t, "orchestrator", "server")
	c1, k1 := ca1.issue(t, "backend-1", "Org1MSP")
	c2, k2 := ca2.issue(t, "backend-2", "Org2MSP")
	writeFile(t, dir, "ca1.pem", ca1.pem)
	config := writeFile(t, dir, "config.yaml", []byte(`channels:
  mychannel: [Org1MSP, Org2MSP]
  private: [Org1MSP]
client_cas:
  Org1MSP: ca1.pem
`))
	p := startProc(t, "--data", t.TempDir(), "--config", config,
		"--tls-cert", writeFile(t, dir, "server.pem", sc), "--tls-key", writeFile(t, dir, "server.key", sk),
		"--client-ca", "Org2MSP="+writeFile(t, dir, "ca2.pem", ca2.pem))

	conn1 := dial(t, p.addr, clientCreds(t, serverCA, c1, k1))
	conn2 := dial(t, p.addr, clientCreds(t, serverCA, c2, k2))
	as := func(o *org, mspid, channel string) *org { return &org{id: mspid, channel: channel, conn: o.conn} }
	org1 := &org{id: "Org1MSP", channel: "mychannel", conn: conn1}
	org2 := &org{id: "Org2MSP", channel: "mychannel", conn: conn2}

	for _, o := range []*org{org1, org2} {
		got := must(o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: o.id + ":443"}))(t)
		if got.GetId() != o.id {
			t.Fatalf("registered %v as %s", got, o.id)
		}
	}
	must(org1.organizations().RegisterOrganization(as(org1, "Org1MSP", "private").ctx(), &protos.RegisterOrganizationParam{}))(t)
	noCert := &org{id: "Org1MSP", channel: "mychannel", conn: dial(t, p.addr, clientCreds(t, serverCA, nil, nil))}
	strangerCert, strangerKey := newCA(t, "Org1MSP").issue(t, "impostor", "Org1MSP")
	stranger := &org{id: "Org1MSP", channel: "mychannel", conn: dial(t, p.addr, clientCreds(t, serverCA, strangerCert, strangerKey))}
	for _, tt := range []struct {
		name string
		o    *org
		code codes.Code
	}{
		{"org1 cert claims org2", as(org1, "Org2MSP", "mychannel"), codes.PermissionDenied},
		{"org2 cert claims org1", as(org2, "Org1MSP", "mychannel"), codes.PermissionDenied},
		{"org2 on a channel it is not in", as(org2, "Org2MSP", "private"), codes.PermissionDenied},
		{"unknown channel", as(org1, "Org1MSP", "nochannel"), codes.PermissionDenied},
		{"unknown organization", as(org1, "Org3MSP", "mychannel"), codes.PermissionDenied},
		{"no client certificate", noCert, codes.Unauthenticated},
		{"certificate of another CA", stranger, codes.Unauthenticated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.o.organizations().GetAllOrganizations(tt.o.ctx(), &protos.GetAllOrganizationsParam{})
			if status.Code(err) != tt.code {
				t.Fatalf("got %v, want %v", err, tt.code)
			}
		})
	}
	all := must(org2.organizations().GetAllOrganizations(org2.ctx(), &protos.GetAllOrganizationsParam{}))(t)
	if n := len(all.GetOrganizations()); n != 2 {
		t.Fatalf("mychannel has %d organizations", n)
	}
	// Org2 cannot register in Org1's name even with its own valid cert.
	if _, err := org2.organizations().RegisterOrganization(as(org2, "Org1MSP", "mychannel").ctx(), &protos.RegisterOrganizationParam{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("impersonation: %v", err)
	}
	p.stop()
}

// TestServerTLS runs TLS without client certificates: the mspid header is
// the identity, and plaintext clients are refused.
func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "server")
	sc, sk := ca.issue(t, "orchestrator", "server")
	p := startProc(t, "--data", t.TempDir(), "--tls-cert", writeFile(t, dir, "server.pem", sc), "--tls-key", writeFile(t, dir, "server.key", sk))
	o := &org{id: "Org1MSP", channel: "mychannel", conn: dial(t, p.addr, clientCreds(t, ca, nil, nil))}
	if got := must(o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: "org1.test:443"}))(t); got.GetId() != "Org1MSP" {
		t.Fatalf("registered %v", got)
	}
	plain := newOrg(t, p.addr, "Org1MSP", "mychannel")
	if _, err := plain.organizations().GetAllOrganizations(plain.ctx(), &protos.GetAllOrganizationsParam{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("plaintext call: %v", err)
	}
	p.stop()
}
