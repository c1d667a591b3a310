package function_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.function:RegisterFunction"
	get      = "orchestrator.function:GetFunction"
	query    = "orchestrator.function:QueryFunctions"
	update   = "orchestrator.function:UpdateFunction"
	apply    = "orchestrator.function:ApplyFunctionAction"
)

func TestRegisterFunction(t *testing.T) {
	k := cct.Key(1)
	tests := []struct {
		name   string
		caller string
		edit   func(*protos.NewFunction)
		want   orcerr.Kind
	}{
		{name: "valid", caller: "Org1MSP"},
		{name: "private", caller: "Org2MSP", edit: func(f *protos.NewFunction) {
			f.NewPermissions = &protos.NewPermissions{AuthorizedIds: []string{"Org1MSP"}}
		}},
		{name: "no inputs nor outputs", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Inputs, f.Outputs = nil, nil }},
		{name: "performance output", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.Outputs["perf"] = &protos.FunctionOutput{Kind: protos.AssetKind_ASSET_PERFORMANCE}
		}},
		{name: "duplicate", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Key = cct.Key(100) }, want: orcerr.Conflict},
		{name: "unknown authorized org", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.NewPermissions = &protos.NewPermissions{AuthorizedIds: []string{"Org3MSP"}}
		}, want: orcerr.BadRequest},
		{name: "bad key", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Key = "1" }, want: orcerr.InvalidAsset},
		{name: "upper-case key", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Key = "00000000-0000-4000-8000-00000000000A" }, want: orcerr.InvalidAsset},
		{name: "no name", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Name = "" }, want: orcerr.InvalidAsset},
		{name: "no archive", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Archive = nil }, want: orcerr.InvalidAsset},
		{name: "bad description", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Description.StorageAddress = "" }, want: orcerr.InvalidAsset},
		{name: "no permissions", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.NewPermissions = nil }, want: orcerr.InvalidAsset},
		{name: "long metadata key", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Metadata = map[string]string{string(make([]byte, 101)): "v"} }, want: orcerr.InvalidAsset},
		{name: "multiple data managers input", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Inputs["opener"].Multiple = true }, want: orcerr.InvalidAsset},
		{name: "two data managers", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.Inputs["opener2"] = &protos.FunctionInput{Kind: protos.AssetKind_ASSET_DATA_MANAGER}
		}, want: orcerr.InvalidAsset},
		{name: "samples without manager", caller: "Org1MSP", edit: func(f *protos.NewFunction) { delete(f.Inputs, "opener") }, want: orcerr.InvalidAsset},
		{name: "performance input", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.Inputs["perf"] = &protos.FunctionInput{Kind: protos.AssetKind_ASSET_PERFORMANCE}
		}, want: orcerr.InvalidAsset},
		{name: "blank input name", caller: "Org1MSP", edit: func(f *protos.NewFunction) { f.Inputs[""] = &protos.FunctionInput{Kind: protos.AssetKind_ASSET_MODEL} }, want: orcerr.InvalidAsset},
		{name: "multiple performance output", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.Outputs["perf"] = &protos.FunctionOutput{Kind: protos.AssetKind_ASSET_PERFORMANCE, Multiple: true}
		}, want: orcerr.InvalidAsset},
		{name: "sample output", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.Outputs["x"] = &protos.FunctionOutput{Kind: protos.AssetKind_ASSET_DATA_SAMPLE}
		}, want: orcerr.InvalidAsset},
		{name: "long output name", caller: "Org1MSP", edit: func(f *protos.NewFunction) {
			f.Outputs[string(make([]rune, 101))] = &protos.FunctionOutput{Kind: protos.AssetKind_ASSET_MODEL}
		}, want: orcerr.InvalidAsset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.RegisterOrgs("Org1MSP", "Org2MSP")
			n.RegisterFunction("Org1MSP", cct.Key(100))
			req := cct.NewFunction(k, &protos.NewPermissions{Public: true})
			if tt.edit != nil {
				tt.edit(req)
			}
			got := new(protos.Function)
			n.Expect(tt.want, func() error { return n.Submit(tt.caller, register, req, got) })
			if tt.want != "" {
				return
			}
			if got.GetStatus() != protos.FunctionStatus_FUNCTION_STATUS_WAITING || got.GetOwner() != tt.caller || got.GetImage() == nil ||
				got.GetImage().GetChecksum() != "" || len(got.GetInputs()) != len(req.GetInputs()) {
				t.Errorf("registered %v", got)
			}
			if !slices.Contains(got.GetPermissions().GetProcess().GetAuthorizedIds(), tt.caller) ||
				!proto.Equal(got.GetPermissions().GetProcess(), got.GetPermissions().GetDownload()) {
				t.Errorf("permissions %v", got.GetPermissions())
			}
			stored := new(protos.Function)
			n.MustEvaluate("Org2MSP", get, &protos.GetFunctionParam{Key: k}, stored)
			if !proto.Equal(stored, got) {
				t.Errorf("stored %v, registered %v", stored, got)
			}
			if len(n.LastEvents()) != 1 || n.LastEvents()[0].GetEventKind() != protos.EventKind_EVENT_ASSET_CREATED || !proto.Equal(n.LastEvents()[0].GetFunction(), got) {
				t.Errorf("events %v", n.LastEvents())
			}
		})
	}
}

func TestGetFunctionNotFound(t *testing.T) {
	n := cct.New(t, solotest.Start)
	err := n.Evaluate("Org1MSP", get, &protos.GetFunctionParam{Key: cct.Key(3)}, nil)
	if want := `OE0002: function with key "` + cct.Key(3) + `" not found`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

func TestApplyFunctionAction(t *testing.T) {
	const (
		waiting  = protos.FunctionStatus_FUNCTION_STATUS_WAITING
		building = protos.FunctionStatus_FUNCTION_STATUS_BUILDING
		ready    = protos.FunctionStatus_FUNCTION_STATUS_READY
		canceled = protos.FunctionStatus_FUNCTION_STATUS_CANCELED
		failed   = protos.FunctionStatus_FUNCTION_STATUS_FAILED
	)
	var (
		toBuild  = protos.FunctionAction_FUNCTION_ACTION_BUILDING
		toReady  = protos.FunctionAction_FUNCTION_ACTION_READY
		toCancel = protos.FunctionAction_FUNCTION_ACTION_CANCELED
		toFail   = protos.FunctionAction_FUNCTION_ACTION_FAILED
	)
	tests := []struct {
		name    string
		path    []protos.FunctionAction // applied by the owner first
		caller  string
		action  protos.FunctionAction
		want    orcerr.Kind
		wantNew protos.FunctionStatus
	}{
		{name: "waiting -> building", action: toBuild, wantNew: building},
		{name: "waiting -> canceled", action: toCancel, wantNew: canceled},
		{name: "building -> ready", path: []protos.FunctionAction{toBuild}, action: toReady, wantNew: ready},
		{name: "building -> failed", path: []protos.FunctionAction{toBuild}, action: toFail, wantNew: failed},
		{name: "building -> canceled", path: []protos.FunctionAction{toBuild}, action: toCancel, wantNew: canceled},
		{name: "waiting -> ready", action: toReady, want: orcerr.BadRequest},
		{name: "waiting -> failed", action: toFail, want: orcerr.BadRequest},
		{name: "ready -> building", path: []protos.FunctionAction{toBuild, toReady}, action: toBuild, want: orcerr.BadRequest},
		{name: "canceled -> canceled", path: []protos.FunctionAction{toCancel}, action: toCancel, want: orcerr.BadRequest},
		{name: "not the owner", caller: "Org2MSP", action: toBuild, want: orcerr.PermissionDenied},
		{name: "unknown action", action: protos.FunctionAction_FUNCTION_ACTION_UNKNOWN, want: orcerr.BadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.RegisterOrgs("Org1MSP", "Org2MSP")
			k := cct.Key(1)
			n.RegisterFunction("Org1MSP", k)
			for _, a := range tt.path {
				n.MustSubmit("Org1MSP", apply, &protos.ApplyFunctionActionParam{FunctionKey: k, Action: a}, nil)
			}
			caller := tt.caller
			if caller == "" {
				caller = "Org1MSP"
			}
			n.Expect(tt.want, func() error {
				return n.Submit(caller, apply, &protos.ApplyFunctionActionParam{FunctionKey: k, Action: tt.action}, new(protos.ApplyFunctionActionResponse))
			})
			if tt.want != "" {
				return
			}
			f := new(protos.Function)
			n.MustEvaluate("Org2MSP", get, &protos.GetFunctionParam{Key: k}, f)
			if f.GetStatus() != tt.wantNew {
				t.Errorf("status %v, want %v", f.GetStatus(), tt.wantNew)
			}
			if len(n.LastEvents()) == 0 {
				t.Fatal("no event")
			}
			ev := n.LastEvents()[0]
			if ev.GetEventKind() != protos.EventKind_EVENT_ASSET_UPDATED || ev.GetMetadata()["reason"] != "User action" || ev.GetFunction().GetStatus() != tt.wantNew {
				t.Errorf("event %v", ev)
			}
		})
	}
	n := cct.New(t, solotest.Start)
	if err := n.Submit("Org1MSP", apply, &protos.ApplyFunctionActionParam{FunctionKey: cct.Key(5), Action: toBuild}, nil); cct.KindOf(err) != orcerr.NotFound {
		t.Errorf("unknown function: %v", err)
	}
	if err := n.Submit("Org1MSP", apply, &protos.ApplyFunctionActionParam{FunctionKey: "x", Action: toBuild}, nil); cct.KindOf(err) != orcerr.NotFound {
		t.Errorf("bad key: %v", err)
	}
}

func TestUpdateFunction(t *testing.T) {
	k := cct.Key(1)
	image := cct.Addressable("image")
	tests := []struct {
		name      string
		ready     bool
		caller    string
		req       *protos.UpdateFunctionParam
		want      orcerr.Kind
		wantImage *protos.Addressable
	}{
		{name: "rename", caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: k, Name: "renamed"}, wantImage: &protos.Addressable{}},
		{name: "set image", caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: k, Name: "renamed", Image: image}, wantImage: image},
		{name: "ready with image", ready: true, caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: k, Name: "renamed", Image: image}, wantImage: image},
		{name: "ready without image", ready: true, caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: k, Name: "renamed"}, want: orcerr.InvalidAsset},
		{name: "not the owner", caller: "Org2MSP", req: &protos.UpdateFunctionParam{Key: k, Name: "renamed"}, want: orcerr.PermissionDenied},
		{name: "unknown", caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: cct.Key(2), Name: "renamed"}, want: orcerr.NotFound},
		{name: "no name", caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: k}, want: orcerr.InvalidAsset},
		{name: "bad key", caller: "Org1MSP", req: &protos.UpdateFunctionParam{Key: "k", Name: "x"}, want: orcerr.InvalidAsset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.RegisterOrgs("Org1MSP", "Org2MSP")
			n.RegisterFunction("Org1MSP", k)
			if tt.ready {
				n.MustSubmit("Org1MSP", apply, &protos.ApplyFunctionActionParam{FunctionKey: k, Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING}, nil)
				n.MustSubmit("Org1MSP", apply, &protos.ApplyFunctionActionParam{FunctionKey: k, Action: protos.FunctionAction_FUNCTION_ACTION_READY}, nil)
			}
			n.Expect(tt.want, func() error { return n.Submit(tt.caller, update, tt.req, new(protos.UpdateFunctionResponse)) })
			if tt.want != "" {
				return
			}
			f := new(protos.Function)
			n.MustEvaluate("Org2MSP", get, &protos.GetFunctionParam{Key: k}, f)
			if f.GetName() != tt.req.GetName() || !proto.Equal(f.GetImage(), tt.wantImage) {
				t.Errorf("stored %v", f)
			}
			if len(n.LastEvents()) != 1 || !proto.Equal(n.LastEvents()[0].GetFunction(), f) {
				t.Errorf("events %v", n.LastEvents())
			}
		})
	}
}

func TestQueryFunctions(t *testing.T) {
	n := cct.New(t, solotest.Start)
	n.RegisterOrgs("Org1MSP")
	order := []int{4, 2, 8, 6}
	for _, i := range order {
		n.RegisterFunction("Org1MSP", cct.Key(i))
	}
	for _, size := range []uint32{0, 1, 3, 4} {
		var got []string
		token := ""
		for pages := 0; pages < 10; pages++ {
			res := new(protos.QueryFunctionsResponse)
			n.MustEvaluate("Org1MSP", query, &protos.QueryFunctionsParam{PageToken: token, PageSize: size}, res)
			for _, f := range res.GetFunctions() {
				got = append(got, f.GetKey())
			}
			if token = res.GetNextPageToken(); token == "" {
				break
			}
		}
		want := []string{cct.Key(4), cct.Key(2), cct.Key(8), cct.Key(6)}
		if !slices.Equal(got, want) {
			t.Errorf("size %d: got %v, want %v", size, got, want)
		}
	}
	res := new(protos.QueryFunctionsResponse)
	n.MustEvaluate("Org1MSP", query, &protos.QueryFunctionsParam{Filter: &protos.FunctionQueryFilter{ComputePlanKey: cct.Key(77)}}, res)
	if len(res.GetFunctions()) != 0 || res.GetNextPageToken() != "" {
		t.Errorf("functions of an unknown plan: %v", res)
	}
}

func TestQueryFunctionsByPlan(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	n.Register(b.TrainTask(tasktest.Key(0x20, 1), "org1"), b.TrainTask(tasktest.Key(0x20, 2), "org2"))
	n.Register(b.AggTask(tasktest.Key(0x20, 3), "org1", tasktest.Key(0x20, 1), tasktest.Key(0x20, 2)))
	res := new(protos.QueryFunctionsResponse)
	n.MustEvaluate("org2", query, &protos.QueryFunctionsParam{Filter: &protos.FunctionQueryFilter{ComputePlanKey: b.Plan}}, res)
	var got []string
	for _, f := range res.GetFunctions() {
		got = append(got, f.GetKey())
	}
	// creation order: Train, Multi, Agg; Multi is not used by the plan
	if want := []string{b.Train, b.Agg}; !slices.Equal(got, want) {
		t.Errorf("functions of the plan %v, want %v", got, want)
	}
}
