package organization_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.organization:RegisterOrganization"
	getAll   = "orchestrator.organization:GetAllOrganizations"
)

func TestRegisterOrganization(t *testing.T) {
	tests := []struct {
		name    string
		before  []string // MSP ids registered first
		caller  string
		address string
		want    orcerr.Kind
	}{
		{name: "first", caller: "Org1MSP", address: "https://org1.example.org:8000/api"},
		{name: "no address", caller: "Org1MSP"},
		{name: "second org", before: []string{"Org1MSP"}, caller: "Org2MSP", address: "http://org2"},
		{name: "twice", before: []string{"Org1MSP"}, caller: "Org1MSP", want: orcerr.Conflict},
		{name: "bad address", caller: "Org1MSP", address: "not a url", want: orcerr.InvalidAsset},
		{name: "relative address", caller: "Org1MSP", address: "org1/api", want: orcerr.InvalidAsset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := chaincodetest.New(t, solotest.Start)
			n.RegisterOrgs(tt.before...)
			got := new(protos.Organization)
			n.Expect(tt.want, func() error {
				return n.Submit(tt.caller, register, &protos.RegisterOrganizationParam{Address: tt.address}, got)
			})
			if tt.want == "" && (got.GetId() != tt.caller || got.GetAddress() != tt.address) {
				t.Errorf("registered %v", got)
			}
		})
	}
}

func TestRegisterOrganizationSuccess(t *testing.T) {
	n := chaincodetest.New(t, solotest.Start)
	got := new(protos.Organization)
	n.MustSubmit("Org1MSP", register, &protos.RegisterOrganizationParam{Address: "https://org1.example.org"}, got)
	want := &protos.Organization{Id: "Org1MSP", Address: "https://org1.example.org", CreationDate: timestamppb.New(n.Now())}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if len(n.LastEvents()) != 1 {
		t.Fatalf("%d events, want 1", len(n.LastEvents()))
	}
	ev := n.LastEvents()[0]
	if ev.GetEventKind() != protos.EventKind_EVENT_ASSET_CREATED || ev.GetAssetKind() != protos.AssetKind_ASSET_ORGANIZATION ||
		ev.GetAssetKey() != "Org1MSP" || !proto.Equal(ev.GetOrganization(), want) || ev.GetChannel() != chaincodetest.Channel ||
		!ev.GetTimestamp().AsTime().Equal(n.Now()) || ev.GetId() == "" {
		t.Errorf("event %v", ev)
	}
}

func TestGetAllOrganizations(t *testing.T) {
	n := chaincodetest.New(t, solotest.Start)
	res := new(protos.GetAllOrganizationsResponse)
	n.MustEvaluate("Org1MSP", getAll, &protos.GetAllOrganizationsParam{}, res)
	if len(res.GetOrganizations()) != 0 {
		t.Fatalf("got %v before any registration", res)
	}
	n.RegisterOrgs("Org2MSP", "Org1MSP", "Org3MSP")
	n.MustEvaluate("Org9MSP", getAll, &protos.GetAllOrganizationsParam{}, res)
	var ids []string
	for _, o := range res.GetOrganizations() {
		ids = append(ids, o.GetId())
	}
	if want := []string{"Org2MSP", "Org1MSP", "Org3MSP"}; len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Fatalf("ids %v, want %v (registration order)", ids, want)
	}
}

func TestBadRequestBytes(t *testing.T) {
	n := chaincodetest.New(t, solotest.Start)
	_, err := n.EvaluateRaw("Org1MSP", getAll, []byte{0xff, 0xff})
	if k := chaincodetest.KindOf(err); k != orcerr.ByteArray {
		t.Fatalf("error %v, want kind OE0001", err)
	}
}
