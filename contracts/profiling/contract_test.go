package profiling_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const register = "orchestrator.profiling:RegisterProfilingStep"

func TestRegisterProfilingStep(t *testing.T) {
	tests := []struct {
		name string
		step *protos.ProfilingStep
		want orcerr.Kind
	}{
		{name: "valid", step: &protos.ProfilingStep{AssetKey: cct.Key(1), Step: "build_image", Duration: 1200}},
		{name: "bad key", step: &protos.ProfilingStep{AssetKey: "k", Step: "build_image", Duration: 1}, want: orcerr.InvalidAsset},
		{name: "no step", step: &protos.ProfilingStep{AssetKey: cct.Key(1), Duration: 1}, want: orcerr.InvalidAsset},
		{name: "no duration", step: &protos.ProfilingStep{AssetKey: cct.Key(1), Step: "s"}, want: orcerr.InvalidAsset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.Expect(tt.want, func() error { return n.Submit("Org1MSP", register, tt.step, new(emptypb.Empty)) })
			if tt.want != "" {
				return
			}
			if len(n.LastEvents()) != 1 || !proto.Equal(n.LastEvents()[0].GetProfilingStep(), tt.step) ||
				n.LastEvents()[0].GetAssetKind() != protos.AssetKind_ASSET_PROFILING_STEP || n.LastEvents()[0].GetAssetKey() != tt.step.GetAssetKey() {
				t.Errorf("events %v", n.LastEvents())
			}
		})
	}
}
