package e2e

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fedchain/orchestrator/protos"
)

// TestBadInput sends wrong requests to every method and checks the status
// code of each, and that none of them changed anything.
func TestBadInput(t *testing.T) {
	addr1, addr2, stop := serverUnderTest(t, "--max-page-size", "100000")
	o := newOrg(t, addr1, "Org1MSP", "mychannel")
	f := setUpFederation(t, o, newOrg(t, addr2, "Org2MSP", "mychannel"))
	plan := key(0xc, 1)
	tasks := f.plan(t, o, plan, 0, 1)
	before := ids(allEvents(t, o))
	unknown := key(0x99, 1)
	ctx := o.ctx
	bad := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"RegisterOrganization twice", func() error {
			_, err := o.organizations().RegisterOrganization(ctx(), &protos.RegisterOrganizationParam{Address: "again.test:443"})
			return err
		}, codes.AlreadyExists},
		{"RegisterFunction bad key", func() error {
			_, err := o.functions().RegisterFunction(ctx(), &protos.NewFunction{Key: "not-a-uuid", Name: "f", Description: addr("d"), Archive: addr("a"), NewPermissions: public()})
			return err
		}, codes.InvalidArgument},
		{"RegisterFunction existing", func() error {
			_, err := o.functions().RegisterFunction(ctx(), &protos.NewFunction{Key: fnTrain, Name: "f", Description: addr("d"), Archive: addr("a"), NewPermissions: public()})
			return err
		}, codes.AlreadyExists},
		{"GetFunction unknown", func() error {
			_, err := o.functions().GetFunction(ctx(), &protos.GetFunctionParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"QueryFunctions bad token", func() error {
			_, err := o.functions().QueryFunctions(ctx(), &protos.QueryFunctionsParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"QueryFunctions page too large", func() error {
			_, err := o.functions().QueryFunctions(ctx(), &protos.QueryFunctionsParam{PageSize: 100001})
			return err
		}, codes.InvalidArgument},
		{"UpdateFunction unknown", func() error {
			_, err := o.functions().UpdateFunction(ctx(), &protos.UpdateFunctionParam{Key: unknown, Name: "x"})
			return err
		}, codes.NotFound},
		{"ApplyFunctionAction unknown", func() error {
			_, err := o.functions().ApplyFunctionAction(ctx(), &protos.ApplyFunctionActionParam{FunctionKey: unknown, Action: protos.FunctionAction_FUNCTION_ACTION_READY})
			return err
		}, codes.NotFound},
		{"RegisterDataManager no opener", func() error {
			_, err := o.managers().RegisterDataManager(ctx(), &protos.NewDataManager{Key: unknown, Name: "dm", NewPermissions: public(), Description: addr("d"), Type: "csv"})
			return err
		}, codes.InvalidArgument},
		{"GetDataManager unknown", func() error {
			_, err := o.managers().GetDataManager(ctx(), &protos.GetDataManagerParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"QueryDataManagers bad token", func() error {
			_, err := o.managers().QueryDataManagers(ctx(), &protos.QueryDataManagersParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"UpdateDataManager unknown", func() error {
			_, err := o.managers().UpdateDataManager(ctx(), &protos.UpdateDataManagerParam{Key: unknown, Name: "x"})
			return err
		}, codes.NotFound},
		{"RegisterDataSamples unknown manager", func() error {
			_, err := o.samples().RegisterDataSamples(ctx(), &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{{Key: unknown, DataManagerKeys: []string{key(0x98, 1)}, Checksum: strings.Repeat("ab", 32)}}})
			return err
		}, codes.NotFound},
		{"UpdateDataSamples unknown", func() error {
			_, err := o.samples().UpdateDataSamples(ctx(), &protos.UpdateDataSamplesParam{Keys: []string{unknown}, DataManagerKeys: []string{f.managers["Org1MSP"]}})
			return err
		}, codes.NotFound},
		{"QueryDataSamples bad token", func() error {
			_, err := o.samples().QueryDataSamples(ctx(), &protos.QueryDataSamplesParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"GetDataSample unknown", func() error {
			_, err := o.samples().GetDataSample(ctx(), &protos.GetDataSampleParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"GetDataset unknown", func() error {
			_, err := o.datasets().GetDataset(ctx(), &protos.GetDatasetParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"RegisterPlan bad key", func() error {
			_, err := o.plans().RegisterPlan(ctx(), &protos.NewComputePlan{Key: "plan"})
			return err
		}, codes.InvalidArgument},
		{"GetPlan unknown", func() error {
			_, err := o.plans().GetPlan(ctx(), &protos.GetComputePlanParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"ApplyPlanAction unknown", func() error {
			_, err := o.plans().ApplyPlanAction(ctx(), &protos.ApplyPlanActionParam{Key: unknown, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED})
			return err
		}, codes.NotFound},
		{"QueryPlans bad token", func() error {
			_, err := o.plans().QueryPlans(ctx(), &protos.QueryPlansParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"UpdatePlan unknown", func() error {
			_, err := o.plans().UpdatePlan(ctx(), &protos.UpdateComputePlanParam{Key: unknown, Name: "x"})
			return err
		}, codes.NotFound},
		{"IsPlanRunning unknown", func() error {
			_, err := o.plans().IsPlanRunning(ctx(), &protos.IsPlanRunningParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"RegisterTasks unknown function", func() error {
			_, err := o.tasks().RegisterTasks(ctx(), &protos.RegisterTasksParam{Tasks: []*protos.NewComputeTask{{Key: unknown, FunctionKey: key(0x98, 2), ComputePlanKey: plan}}})
			return err
		}, codes.NotFound},
		{"QueryTasks bad token", func() error {
			_, err := o.tasks().QueryTasks(ctx(), &protos.QueryTasksParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"GetTask unknown", func() error {
			_, err := o.tasks().GetTask(ctx(), &protos.GetTaskParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"ApplyTaskAction DONE while waiting", func() error {
			_, err := o.tasks().ApplyTaskAction(ctx(), &protos.ApplyTaskActionParam{ComputeTaskKey: tasks[0], Action: protos.ComputeTaskAction_TASK_ACTION_DONE})
			return err
		}, codes.InvalidArgument},
		{"GetTaskInputAssets unknown", func() error {
			_, err := o.tasks().GetTaskInputAssets(ctx(), &protos.GetTaskInputAssetsParam{ComputeTaskKey: unknown})
			return err
		}, codes.NotFound},
		{"DisableOutput unknown", func() error {
			_, err := o.tasks().DisableOutput(ctx(), &protos.DisableOutputParam{ComputeTaskKey: unknown, Identifier: "model"})
			return err
		}, codes.NotFound},
		{"RegisterModel task not executing", func() error {
			//lint:ignore SA1019 the deprecated method is still part of the API
			_, err := o.models().RegisterModel(ctx(), &protos.NewModel{Key: unknown, ComputeTaskKey: tasks[0], ComputeTaskOutputIdentifier: "model", Address: addr("m")})
			return err
		}, codes.FailedPrecondition},
		{"RegisterModels unknown task", func() error {
			_, err := o.models().RegisterModels(ctx(), &protos.RegisterModelsParam{Models: []*protos.NewModel{{Key: unknown, ComputeTaskKey: key(0x98, 3), ComputeTaskOutputIdentifier: "model", Address: addr("m")}}})
			return err
		}, codes.NotFound},
		{"GetModel unknown", func() error {
			_, err := o.models().GetModel(ctx(), &protos.GetModelParam{Key: unknown})
			return err
		}, codes.NotFound},
		{"RegisterPerformance unknown task", func() error {
			_, err := o.perfs().RegisterPerformance(ctx(), &protos.NewPerformance{ComputeTaskKey: unknown, ComputeTaskOutputIdentifier: "performance"})
			return err
		}, codes.NotFound},
		{"QueryPerformances bad token", func() error {
			_, err := o.perfs().QueryPerformances(ctx(), &protos.QueryPerformancesParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"RegisterFailureReport unknown", func() error {
			_, err := o.failures().RegisterFailureReport(ctx(), &protos.NewFailureReport{AssetKey: unknown, AssetType: protos.FailedAssetKind_FAILED_ASSET_FUNCTION, ErrorType: protos.ErrorType_ERROR_TYPE_BUILD, LogsAddress: addr("l")})
			return err
		}, codes.NotFound},
		{"GetFailureReport unknown", func() error {
			_, err := o.failures().GetFailureReport(ctx(), &protos.GetFailureReportParam{AssetKey: unknown})
			return err
		}, codes.NotFound},
		{"RegisterProfilingStep no asset", func() error {
			_, err := o.profiling().RegisterProfilingStep(ctx(), &protos.ProfilingStep{Step: "x"})
			return err
		}, codes.InvalidArgument},
		{"QueryEvents bad token", func() error {
			_, err := o.events().QueryEvents(ctx(), &protos.QueryEventsParam{PageToken: "%%%"})
			return err
		}, codes.FailedPrecondition},
		{"SubscribeToEvents unknown start", func() error {
			s, err := o.events().SubscribeToEvents(ctx(), &protos.SubscribeToEventsParam{StartEventId: unknown})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		}, codes.NotFound},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); status.Code(err) != tt.code {
				t.Errorf("got %v, want %v", err, tt.code)
			}
		})
	}

	// Every method, without the mspid header: FailedPrecondition (OE0003,
	// as the reference); with a malformed body: an error, never a crash.
	for _, m := range methods(t) {
		t.Run("no mspid "+m.name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "channel", "mychannel")
			if err := invokeRaw(ctx, o.conn, m, nil); status.Code(err) != codes.FailedPrecondition {
				t.Errorf("got %v, want FailedPrecondition", err)
			}
		})
		t.Run("garbage body "+m.name, func(t *testing.T) {
			err := invokeRaw(o.ctx(), o.conn, m, []byte{0xff, 0xff, 0xff})
			if c := status.Code(err); c == codes.OK || c == codes.Unknown {
				t.Errorf("got %v", err)
			}
		})
	}

	after := ids(allEvents(t, o))
	if strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("bad requests changed the event log: %d events before, %d after", len(before), len(after))
	}
	if task := must(o.tasks().GetTask(o.ctx(), &protos.GetTaskParam{Key: tasks[0]}))(t); task.GetStatus() != protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT {
		t.Fatalf("task status changed to %v", task.GetStatus())
	}
	stop()
}

type method struct {
	name, full string
	in         protoreflect.MessageDescriptor
	stream     bool
}

// methods lists every method of every orchestrator service.
func methods(t *testing.T) []method {
	var out []method
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if fd.Package() != "orchestrator" {
			return true
		}
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				md := sd.Methods().Get(j)
				out = append(out, method{name: string(sd.Name()) + "/" + string(md.Name()),
					full: "/" + string(sd.FullName()) + "/" + string(md.Name()), in: md.Input(), stream: md.IsStreamingServer()})
			}
		}
		return true
	})
	if len(out) < 40 {
		t.Fatalf("found %d methods", len(out))
	}
	return out
}

// rawCodec sends bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, status.Error(codes.Internal, "rawCodec")
}
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = data; return nil }
func (rawCodec) Name() string                       { return "proto" }

// invokeRaw calls m with body as the encoded request (an empty message
// when nil).
func invokeRaw(ctx context.Context, cc *grpc.ClientConn, m method, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	if m.stream {
		s, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, m.full, grpc.ForceCodec(rawCodec{}))
		if err != nil {
			return err
		}
		if err := s.SendMsg(&body); err != nil {
			return err
		}
		s.CloseSend()
		var out []byte
		return s.RecvMsg(&out)
	}
	var out []byte
	return cc.Invoke(ctx, m.full, &body, &out, grpc.ForceCodec(rawCodec{}))
}
