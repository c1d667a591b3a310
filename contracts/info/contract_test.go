package info_test

import (
	"testing"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/contracts/info"
	"github.com/fedchain/orchestrator/protos"
)

func TestQueryVersion(t *testing.T) {
	n := cct.New(t)
	for _, msp := range []string{"Org1MSP", "Unregistered"} {
		res := new(protos.QueryVersionResponse)
		n.MustEvaluate(msp, "orchestrator.info:QueryVersion", &protos.QueryVersionParam{}, res)
		if res.GetOrchestrator() != info.Version || res.GetOrchestrator() == "" {
			t.Errorf("%s: version %q, want %q", msp, res.GetOrchestrator(), info.Version)
		}
	}
}
