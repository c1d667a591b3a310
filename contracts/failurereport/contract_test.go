package failurereport_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.failurereport:RegisterFailureReport"
	get      = "orchestrator.failurereport:GetFailureReport"
	apply    = "orchestrator.function:ApplyFunctionAction"
	getFn    = "orchestrator.function:GetFunction"
)

func TestFunctionFailureReport(t *testing.T) {
	k := cct.Key(1)
	logs := cct.Addressable("logs")
	tests := []struct {
		name     string
		building bool
		caller   string
		req      *protos.NewFailureReport
		want     orcerr.Kind
	}{
		{name: "build failure", building: true, caller: "Org1MSP",
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_BUILD, LogsAddress: logs}},
		{name: "internal error, no logs", building: true, caller: "Org1MSP",
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_INTERNAL}},
		{name: "not building", caller: "Org1MSP", want: orcerr.BadRequest,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_BUILD, LogsAddress: logs}},
		{name: "not the owner", building: true, caller: "Org2MSP", want: orcerr.PermissionDenied,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_BUILD, LogsAddress: logs}},
		{name: "unknown function", building: true, caller: "Org1MSP", want: orcerr.NotFound,
			req: &protos.NewFailureReport{AssetKey: cct.Key(2), AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_INTERNAL}},
		{name: "build error without logs", building: true, caller: "Org1MSP", want: orcerr.InvalidAsset,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_BUILD}},
		{name: "internal error with logs", building: true, caller: "Org1MSP", want: orcerr.InvalidAsset,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_INTERNAL, LogsAddress: logs}},
		{name: "bad logs address", building: true, caller: "Org1MSP", want: orcerr.InvalidAsset,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: &protos.Addressable{Checksum: "x"}}},
		{name: "bad key", building: true, caller: "Org1MSP", want: orcerr.InvalidAsset,
			req: &protos.NewFailureReport{AssetKey: "x", AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION}},
		{name: "unknown asset type", building: true, caller: "Org1MSP", want: orcerr.BadRequest,
			req: &protos.NewFailureReport{AssetKey: k}},
		{name: "invalid asset type", building: true, caller: "Org1MSP", want: orcerr.InvalidAsset,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: 9}},
		{name: "invalid error type", building: true, caller: "Org1MSP", want: orcerr.InvalidAsset,
			req: &protos.NewFailureReport{AssetKey: k, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.RegisterOrgs("Org1MSP", "Org2MSP")
			n.RegisterFunction("Org1MSP", k)
			if tt.building {
				n.MustSubmit("Org1MSP", apply, &protos.ApplyFunctionActionParam{FunctionKey: k, Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING}, nil)
			}
			got := new(protos.FailureReport)
			n.Expect(tt.want, func() error { return n.Submit(tt.caller, register, tt.req, got) })
			if tt.want != "" {
				return
			}
			want := &protos.FailureReport{AssetKey: k, AssetType: tt.req.GetAssetType(), ErrorType: tt.req.GetErrorType(),
				LogsAddress: tt.req.GetLogsAddress(), Owner: tt.caller, CreationDate: got.GetCreationDate()}
			if !proto.Equal(got, want) || !got.GetCreationDate().AsTime().Equal(n.Now()) {
				t.Errorf("report %v, want %v", got, want)
			}
			stored := new(protos.FailureReport)
			n.MustEvaluate("Org2MSP", get, &protos.GetFailureReportParam{AssetKey: k}, stored)
			if !proto.Equal(stored, got) {
				t.Errorf("stored %v", stored)
			}
			f := new(protos.Function)
			n.MustEvaluate("Org2MSP", getFn, &protos.GetFunctionParam{Key: k}, f)
			if f.GetStatus() != protos.FunctionStatus_FUNCTION_STATUS_FAILED {
				t.Errorf("function status %v, want FAILED", f.GetStatus())
			}
			var kinds []protos.AssetKind
			for _, ev := range n.LastEvents() {
				kinds = append(kinds, ev.GetAssetKind())
			}
			if len(kinds) != 2 || kinds[0] != protos.AssetKind_ASSET_FUNCTION || kinds[1] != protos.AssetKind_ASSET_FAILURE_REPORT ||
				n.LastEvents()[0].GetMetadata()["reason"] != "failure report registered" {
				t.Errorf("events %v", n.LastEvents())
			}
		})
	}
}

func TestGetFailureReportNotFound(t *testing.T) {
	n := cct.New(t, solotest.Start)
	err := n.Evaluate("Org1MSP", get, &protos.GetFailureReportParam{AssetKey: cct.Key(4)}, nil)
	if cct.KindOf(err) != orcerr.NotFound {
		t.Fatalf("error %v, want not found", err)
	}
}
