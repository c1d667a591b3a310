package chaincode

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/txoption"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// TestDirectCoversProtocol checks that every non-streaming rpc of the
// protocol takes the direct path, and nothing else does.
func TestDirectCoversProtocol(t *testing.T) {
	cc, err := New()
	if err != nil {
		t.Fatal(err)
	}
	_ = protos.File_organization_proto
	var want []string
	protoregistry.GlobalFiles.RangeFilesByPackage("orchestrator", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				if m := sd.Methods().Get(j); txoption.MethodKind(m) != txoption.Kind_STREAM {
					want = append(want, txoption.TransactionName(m))
				}
			}
		}
		return true
	})
	var got []string
	for name := range cc.direct {
		got = append(got, name)
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) < 30 || !slices.Equal(got, want) {
		t.Errorf("direct transactions %v\nwant %v", got, want)
	}
}

// TestDirectMatchesContractAPI runs the same transactions through the
// direct path and through the contract API and compares the answers.
func TestDirectMatchesContractAPI(t *testing.T) {
	cc, err := New()
	if err != nil {
		t.Fatal(err)
	}
	peers := map[string]*solo.Peer{}
	for name, code := range map[string]shim.Chaincode{"direct": cc, "contractapi": cc.ContractChaincode} {
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		p := solo.New(code, memstore.Opener(), solo.WithClock(func() time.Time {
			now = now.Add(time.Second)
			return now
		}))
		t.Cleanup(func() { p.Close() })
		peers[name] = p
	}
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	calls := []struct {
		submit bool
		msp    string
		args   [][]byte
	}{
		{true, "Org1MSP", [][]byte{[]byte("orchestrator.organization:RegisterOrganization"), marshal(&protos.RegisterOrganizationParam{Address: "http://org1"})}},
		{true, "Org1MSP", [][]byte{[]byte("orchestrator.organization:RegisterOrganization"), marshal(&protos.RegisterOrganizationParam{Address: "http://org1"})}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.organization:GetAllOrganizations"), marshal(&protos.GetAllOrganizationsParam{})}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.function:GetFunction"), marshal(&protos.GetFunctionParam{Key: "f0b2c63e-1d7e-4b43-9b5d-1c0e0c4b9a11"})}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.function:GetFunction"), []byte{0xff}}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.info:QueryVersion"), marshal(&protos.QueryVersionParam{})}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.info:queryVersion"), marshal(&protos.QueryVersionParam{})}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.info:Nope"), nil}},
		{false, "Org2MSP", [][]byte{[]byte("orchestrator.info:QueryVersion")}},
	}
	for i, c := range calls {
		type answer struct {
			payload []byte
			err     string
		}
		got := map[string]answer{}
		for name, p := range peers {
			prop := solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: c.msp}, Args: c.args}
			var res *solo.Result
			var err error
			if c.submit {
				res, err = p.Submit(context.Background(), prop)
			} else {
				res, err = p.Evaluate(context.Background(), prop)
			}
			var a answer
			var ce *solo.ChaincodeError
			switch {
			case errors.As(err, &ce):
				a.err = ce.Message
			case err != nil:
				t.Fatalf("call %d (%s): %v", i, name, err)
			default:
				a.payload = res.Payload
			}
			got[name] = a
		}
		d, api := got["direct"], got["contractapi"]
		if string(d.payload) != string(api.payload) || d.err != api.err {
			t.Errorf("call %d %s: direct %x %q, contract API %x %q", i, c.args[0], d.payload, d.err, api.payload, api.err)
		}
	}
}
