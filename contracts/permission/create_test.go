package permission_test

import (
	"slices"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/permission"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// mapStub is a read-only state in a map.
type mapStub struct {
	shim.ChaincodeStubInterface
	state map[string][]byte
}

func (s *mapStub) GetState(k string) ([]byte, error) { return s.state[k], nil }

func (s *mapStub) GetMultipleStates(keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = s.state[k]
	}
	return out, nil
}

func orgs(t *testing.T, ids ...string) *ledger.Tx {
	s := &mapStub{state: map[string][]byte{}}
	for _, id := range ids {
		k, err := ledger.OrganizationKind.Key(id)
		if err != nil {
			t.Fatal(err)
		}
		s.state[k], _ = proto.Marshal(&protos.Organization{Id: id})
	}
	return ledger.New(s, "")
}

func TestCreate(t *testing.T) {
	l := orgs(t, "org1", "org2", "org3")
	tests := []struct {
		name string
		req  *protos.NewPermissions
		want *protos.Permission
		err  orcerr.Kind
	}{
		{name: "nil is private", req: nil, want: perm(false, "owner")},
		{name: "public", req: &protos.NewPermissions{Public: true}, want: perm(true, "owner")},
		{name: "public keeps unknown ids", req: &protos.NewPermissions{Public: true, AuthorizedIds: []string{"nobody"}}, want: perm(true, "nobody", "owner")},
		{name: "restricted", req: &protos.NewPermissions{AuthorizedIds: []string{"org2", "org1"}}, want: perm(false, "org2", "org1", "owner")},
		{name: "owner listed", req: &protos.NewPermissions{AuthorizedIds: []string{"owner", "org3"}}, want: perm(false, "owner", "org3"), err: orcerr.BadRequest},
		{name: "unknown org", req: &protos.NewPermissions{AuthorizedIds: []string{"org1", "org9"}}, err: orcerr.BadRequest},
	}
	for _, tt := range tests {
		got, err := permission.Create(l, "owner", tt.req)
		if orcerr.KindOf(err) != tt.err {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if got.GetPublic() != tt.want.GetPublic() || !slices.Equal(got.GetAuthorizedIds(), tt.want.GetAuthorizedIds()) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	ps, err := permission.CreatePermissions(orgs(t, "owner", "org1"), "owner", &protos.NewPermissions{AuthorizedIds: []string{"org1", "owner"}})
	if err != nil || !slices.Equal(ps.GetProcess().GetAuthorizedIds(), []string{"org1", "owner"}) || !proto.Equal(ps.GetProcess(), ps.GetDownload()) || ps.GetProcess() == ps.GetDownload() {
		t.Errorf("CreatePermissions = %v, %v", ps, err)
	}
	if _, err := permission.CreatePermissions(l, "owner", &protos.NewPermissions{AuthorizedIds: []string{"x"}}); orcerr.KindOf(err) != orcerr.BadRequest {
		t.Errorf("CreatePermissions unknown org: %v", err)
	}
}
