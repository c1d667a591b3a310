package computetask_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
)

// fuzzer turns bytes into a sequence of requests against a Basic
// federation.
type fuzzer struct {
	n     *tasktest.Net
	b     *tasktest.Basic
	data  []byte
	tasks []string
	next  int
}

func (f *fuzzer) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	c := f.data[0]
	f.data = f.data[1:]
	return c
}

func (f *fuzzer) org() string { return []string{"org1", "org2", "org3"}[f.byte()%3] }

// task picks a known task, or now and then an unknown key.
func (f *fuzzer) task() string {
	c := f.byte()
	if len(f.tasks) == 0 || c%11 == 10 {
		return tasktest.Key(0x70, int(c))
	}
	return f.tasks[int(c)%len(f.tasks)]
}

// step sends one request and returns its transaction name and message.
func (f *fuzzer) step() (string, proto.Message) {
	switch f.byte() % 9 {
	case 0, 1: // register 1-3 tasks
		var batch []*protos.NewComputeTask
		for range 1 + f.byte()%3 {
			f.next++
			k := tasktest.Key(0x60, f.next)
			var t *protos.NewComputeTask
			switch f.byte() % 4 {
			case 0:
				t = f.b.TrainTask(k, f.org())
			case 1:
				t = f.b.TrainTask(k, f.org(), f.task())
			case 2:
				t = f.b.AggTask(k, f.org(), f.task(), f.task())
			default:
				t = f.b.MultiTask(k, f.org())
			}
			if f.byte()%7 == 6 {
				t.ComputePlanKey = tasktest.Key(0x10, 2)
			}
			batch = append(batch, t)
			f.tasks = append(f.tasks, k)
		}
		return "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: batch}
	case 2, 3:
		return "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: f.task(),
			Action: protos.ComputeTaskAction(f.byte() % 8)}
	case 4:
		f.next++
		out := []string{"model", "models", "perf", "x"}[f.byte()%4]
		return "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: []*protos.NewModel{{
			Key: tasktest.Key(0x61, f.next), ComputeTaskKey: f.task(), ComputeTaskOutputIdentifier: out, Address: tasktest.Addr("m")}}}
	case 5:
		return "orchestrator.performance:RegisterPerformance", &protos.NewPerformance{ComputeTaskKey: f.task(),
			ComputeTaskOutputIdentifier: []string{"perf", "model"}[f.byte()%2], PerformanceValue: float32(f.byte())}
	case 6:
		return "orchestrator.computetask:DisableOutput", &protos.DisableOutputParam{ComputeTaskKey: f.task(),
			Identifier: []string{"model", "models", "perf"}[f.byte()%3]}
	case 7:
		return "orchestrator.failurereport:RegisterFailureReport", &protos.NewFailureReport{AssetKey: f.task(),
			AssetType: protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK, ErrorType: protos.ErrorType_ERROR_TYPE_EXECUTION, LogsAddress: tasktest.Addr("l")}
	default:
		return "orchestrator.computeplan:ApplyPlanAction", &protos.ApplyPlanActionParam{Key: f.b.Plan, Action: protos.ComputePlanAction(f.byte() % 2)}
	}
}

// FuzzRequestSequences sends random request sequences: no call may panic,
// and a rejected call must leave the state exactly as it was.
func FuzzRequestSequences(f *testing.F) {
	// Seeds: [org][op][args...] per request, see fuzzer.step.
	f.Add([]byte{
		0, 0, 0, 0, 0, 0, // org1 registers a train task on org1's data
		0, 2, 0, 1, // org1 starts it
		0, 4, 0, 0, // registers its model
		0, 2, 0, 4, // finishes it
		0, 0, 0, 2, 0, 0, 0, 0, // registers an aggregate of it
		0, 2, 1, 1, // starts the aggregate
		0, 7, 1, // reports its failure
		0, 6, 0, 0, // tries to disable the train model
		0, 8, 1, // cancels the plan
	})
	f.Add([]byte{
		0, 0, 1, 3, 1, 0, 0, 0, 0, // org1 registers a multi task on org2's data and a train task on org1's
		1, 2, 0, 1, // org2 starts the multi task
		1, 4, 1, 0, 1, 4, 1, 0, // registers two models
		1, 5, 0, 0, 5, // and a performance
		1, 2, 0, 4, // finishes it
		0, 2, 1, 2, // org1 cancels the train task
		1, 6, 0, 1, // org2 disables the multi models (no children)
		0, 8, 1, 0, 8, 1, // cancels the plan twice
	})
	f.Add([]byte{0, 0, 2, 0, 1, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 0, 2, 0, 1, 1, 2, 1, 1, 0, 2, 2, 1, 2, 2, 0, 6})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 2, 2, 9, 3, 0, 4, 9, 9, 1, 5, 9, 1, 1, 0, 7, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 200 {
			data = data[:200]
		}
		n := tasktest.New(t)
		fz := &fuzzer{n: n, b: n.NewBasic(), data: data}
		accepted := 0
		defer func() { t.Logf("%d calls accepted", accepted) }()
		for len(fz.data) > 0 {
			org := fz.org()
			tx, msg := fz.step()
			before := n.StateDigest()
			err := n.Submit(org, tx, msg, nil)
			if err == nil {
				accepted++
				continue
			}
			if strings.Contains(err.Error(), "panic") {
				t.Fatalf("%s as %s panicked: %v", tx, org, err)
			}
			if n.StateDigest() != before {
				t.Fatalf("rejected %s as %s (%v) changed the state", tx, org, err)
			}
		}
	})
}
