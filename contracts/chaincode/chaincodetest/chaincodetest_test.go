package chaincodetest_test

import (
	"errors"
	"testing"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

func TestNet(t *testing.T) {
	for _, opts := range [][]chaincodetest.Option{nil, {chaincodetest.Once()}} {
		n := chaincodetest.New(t, solotest.Start, opts...)
		n.RegisterOrgs("Org1MSP", "Org2MSP")
		if !n.Now().Equal(chaincodetest.Start.Add(1e9)) {
			t.Errorf("clock at %v after two transactions", n.Now())
		}
		f := n.RegisterFunction("Org1MSP", chaincodetest.Key(1))
		dm := n.RegisterDataManager("Org2MSP", chaincodetest.Key(2))
		n.RegisterDataSamples("Org2MSP", dm.GetKey(), chaincodetest.Key(3), chaincodetest.Key(4))
		if len(n.LastEvents()) != 2 || n.LastEvents()[1].GetAssetKey() != chaincodetest.Key(4) {
			t.Errorf("last events %v", n.LastEvents())
		}
		if f.GetOwner() != "Org1MSP" || dm.GetOwner() != "Org2MSP" {
			t.Errorf("function %v, data manager %v", f, dm)
		}
		st := n.State()
		if len(st) == 0 {
			t.Fatal("empty state")
		}
		n.Unchanged(func() {
			n.MustEvaluate("Org1MSP", "orchestrator.datasample:GetDataSample", &protos.GetDataSampleParam{Key: chaincodetest.Key(3)}, new(protos.DataSample))
		})
		n.Expect(orcerr.Conflict, func() error {
			return n.Submit("Org1MSP", "orchestrator.function:RegisterFunction", chaincodetest.NewFunction(chaincodetest.Key(1), &protos.NewPermissions{}), nil)
		})
		err := n.Evaluate("Org1MSP", "orchestrator.function:GetFunction", &protos.GetFunctionParam{Key: chaincodetest.Key(9)}, nil)
		var ce *chaincodetest.Error
		if !errors.As(err, &ce) || ce.Kind() != orcerr.NotFound || chaincodetest.KindOf(nil) != "" {
			t.Errorf("error %v", err)
		}
		if _, err := n.EvaluateRaw("Org1MSP", "orchestrator.nope:X"); err == nil {
			t.Error("unknown contract accepted")
		}
		if len(chaincodetest.Checksum("x")) != 64 || chaincodetest.Addressable("x").GetStorageAddress() == "" {
			t.Error("fixtures")
		}
	}
}
