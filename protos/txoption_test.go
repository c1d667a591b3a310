package protos_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fedchain/orchestrator/protos/txoption"
)

// readOnly lists, per service, the methods the reference runs in read-only
// transactions (Substra 1.0.0, server/common/evaluation.go). They must be
// EVALUATE; SubscribeToEvents is STREAM; every other method is SUBMIT.
var readOnly = map[string][]string{
	"OrganizationService":  {"GetAllOrganizations"},
	"FunctionService":      {"GetFunction", "QueryFunctions"},
	"EventService":         {"QueryEvents"},
	"ModelService":         {"GetComputeTaskOutputModels", "GetModel"},
	"DatasetService":       {"GetDataset"},
	"DataSampleService":    {"GetDataSample", "QueryDataSamples"},
	"DataManagerService":   {"GetDataManager", "QueryDataManagers"},
	"ComputeTaskService":   {"QueryTasks", "GetTask", "GetTaskInputAssets"},
	"ComputePlanService":   {"GetPlan", "QueryPlans", "IsPlanRunning"},
	"PerformanceService":   {"QueryPerformances"},
	"InfoService":          {"QueryVersion"},
	"FailureReportService": {"GetFailureReport"},
}

// batch lists the batch calls: their requests are bounded before they are
// decoded (validation.MaxBatchRequestBytes).
var batch = map[string]bool{
	"ComputeTaskService/RegisterTasks":      true,
	"DataSampleService/RegisterDataSamples": true,
	"DataSampleService/UpdateDataSamples":   true,
	"ModelService/RegisterModels":           true,
}

func TestEveryMethodHasTxKind(t *testing.T) {
	want := map[string]txoption.Kind{}
	for svc, methods := range readOnly {
		for _, m := range methods {
			want[svc+"/"+m] = txoption.Kind_EVALUATE
		}
	}
	want["EventService/SubscribeToEvents"] = txoption.Kind_STREAM

	counts := map[txoption.Kind]int{}
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				m := sd.Methods().Get(j)
				name := string(sd.Name()) + "/" + string(m.Name())
				exp, ok := want[name]
				if !ok {
					exp = txoption.Kind_SUBMIT
				}
				delete(want, name)
				got := txoption.MethodKind(m)
				counts[got]++
				if got != exp {
					t.Errorf("%s: kind %v, want %v", name, got, exp)
				}
				if txoption.IsBatch(m) != batch[name] {
					t.Errorf("%s: batch %v, want %v", name, txoption.IsBatch(m), batch[name])
				}
				if streams := m.IsStreamingServer() || m.IsStreamingClient(); streams != (got == txoption.Kind_STREAM) {
					t.Errorf("%s: kind %v but streaming=%v", name, got, streams)
				}
			}
		}
		return true
	})
	for name := range want {
		t.Errorf("%s: expected method not found", name)
	}
	if counts[txoption.Kind_SUBMIT] != 19 || counts[txoption.Kind_EVALUATE] != 20 || counts[txoption.Kind_STREAM] != 1 {
		t.Errorf("kind counts = %v, want 19 SUBMIT, 20 EVALUATE, 1 STREAM", counts)
	}
}

func TestContractAndTransactionNames(t *testing.T) {
	tests := []struct {
		method   protoreflect.FullName
		contract string
		tx       string
	}{
		{"orchestrator.ComputeTaskService.RegisterTasks", "orchestrator.computetask", "orchestrator.computetask:RegisterTasks"},
		{"orchestrator.FailureReportService.GetFailureReport", "orchestrator.failurereport", "orchestrator.failurereport:GetFailureReport"},
		{"orchestrator.DataSampleService.QueryDataSamples", "orchestrator.datasample", "orchestrator.datasample:QueryDataSamples"},
		{"orchestrator.InfoService.QueryVersion", "orchestrator.info", "orchestrator.info:QueryVersion"},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			d, err := protoregistry.GlobalFiles.FindDescriptorByName(tt.method)
			if err != nil {
				t.Fatal(err)
			}
			m := d.(protoreflect.MethodDescriptor)
			if got := txoption.ContractName(m.Parent().(protoreflect.ServiceDescriptor)); got != tt.contract {
				t.Errorf("ContractName = %q, want %q", got, tt.contract)
			}
			if got := txoption.TransactionName(m); got != tt.tx {
				t.Errorf("TransactionName = %q, want %q", got, tt.tx)
			}
		})
	}

	// Contract names must be unique, or two services would share a contract.
	seen := map[string]string{}
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			name := txoption.ContractName(sd)
			if prev, dup := seen[name]; dup {
				t.Errorf("%s and %s share contract name %q", prev, sd.FullName(), name)
			}
			seen[name] = string(sd.FullName())
		}
		return true
	})
}
