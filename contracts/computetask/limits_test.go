package computetask_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// couchMaxDocumentSize is CouchDB's default max_document_size: the journal
// entry of one commit (its writes and event, base64 in JSON) must fit.
const couchMaxDocumentSize = 8 << 20

// stateBytes returns the keys and value bytes of the committed state.
func stateBytes(n *tasktest.Net) map[string]int {
	st := n.State()
	out := make(map[string]int, len(st))
	for k, v := range st {
		out[k] = len(v)
	}
	return out
}

// journalEstimate bounds the size of the CouchDB journal entry of the last
// commit: each write as {"k":"<key>","v":"<base64>"}, the event payload in
// base64, and the response in no document.
func journalEstimate(t *testing.T, n *tasktest.Net, before map[string]int) int {
	t.Helper()
	size := 0
	for k, v := range stateBytes(n) {
		if before[k] != v {
			size += len(k) + (v+2)/3*4 + 20
		}
	}
	// The event payload: each event length-delimited.
	if len(n.LastEvents()) == 0 {
		t.Fatal("the last commit has no events")
	}
	payload := 0
	for _, ev := range n.LastEvents() {
		payload += protowire.SizeBytes(proto.Size(ev))
	}
	return size + (payload+2)/3*4 + 200
}

// bigTask is a train task whose metadata makes its encoding about size
// bytes.
func bigTask(b *tasktest.Basic, i, size int) *protos.NewComputeTask {
	task := b.TrainTask(tasktest.Key(0x20, i), "org1")
	task.Metadata = map[string]string{}
	v := strings.Repeat("v", validation.MaxMetadataLength)
	// Grow by the estimated number of entries still missing, then one at
	// a time: proto.Size of a 1 MB task is not free.
	for j := 0; proto.Size(task) < size; {
		step := max(1, (size-proto.Size(task))/(len(v)+32))
		for range step {
			task.Metadata[fmt.Sprintf("k%05d", j)] = v
			j++
		}
	}
	return task
}

func registerBatch(n *tasktest.Net, tasks []*protos.NewComputeTask) error {
	return n.Submit("org1", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: tasks}, nil)
}

// TestBatchCapsFitOneDocument: a RegisterTasks at the caps is accepted and
// its commit fits in one CouchDB document; one task or one byte more is
// InvalidArgument and writes nothing.
func TestBatchCapsFitOneDocument(t *testing.T) {
	for _, tt := range []struct {
		name     string
		count    int // tasks
		taskSize int // bytes of each
		parents  int // parent tasks (earlier in the batch) of each
	}{
		{"most tasks", validation.MaxTasksPerCall, 0, 0},
		{"most tasks, many parents", validation.MaxTasksPerCall, 0, 8},
		{"most bytes, more parents", validation.MaxTasksPerCall, 0, 32},
		{"most bytes, big tasks", 0, 100 << 10, 0},
		{"most bytes, one task", 1, validation.MaxBatchRequestBytes - 1024, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := tasktest.New(t, solotest.Start)
			b := n.NewBasic()
			var tasks []*protos.NewComputeTask
			req := func() int { return proto.Size(&protos.RegisterTasksParam{Tasks: tasks}) }
			for i := 1; ; i++ {
				next := bigTask(b, i, tt.taskSize)
				for j := 1; j <= tt.parents && j < i; j++ {
					next.Inputs = append(next.Inputs, tasktest.ParentInput("models", tasktest.Key(0x20, i-j), "model"))
				}
				tasks = append(tasks, next)
				if tt.count > 0 && len(tasks) == tt.count {
					break
				}
				if req() > validation.MaxBatchRequestBytes {
					tasks = tasks[:len(tasks)-1]
					break
				}
			}
			if req() > validation.MaxBatchRequestBytes {
				t.Fatalf("test batch of %d bytes is above the cap", req())
			}
			before := stateBytes(n)
			if err := registerBatch(n, tasks); err != nil {
				t.Fatalf("%d tasks, %d bytes: %v", len(tasks), req(), err)
			}
			est := journalEstimate(t, n, before)
			t.Logf("%d tasks, request %d bytes, journal entry about %d bytes", len(tasks), req(), est)
			if est > couchMaxDocumentSize*3/4 {
				t.Errorf("a call at the caps writes about %d bytes, too close to CouchDB's %d", est, couchMaxDocumentSize)
			}
		})
	}
}

func TestBatchCapsRefuse(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	var many []*protos.NewComputeTask
	for i := range validation.MaxTasksPerCall + 1 {
		many = append(many, b.TrainTask(tasktest.Key(0x21, i+1), "org1"))
	}
	big := []*protos.NewComputeTask{bigTask(b, 1, validation.MaxBatchRequestBytes+1)}
	var samples []*protos.NewDataSample
	for i := range validation.MaxSamplesPerCall + 1 {
		samples = append(samples, &protos.NewDataSample{Key: tasktest.Key(0x22, i+1), DataManagerKeys: []string{b.Manager["org1"]}, Checksum: strings.Repeat("cd", 32)})
	}
	var models []*protos.NewModel
	for i := range validation.MaxModelsPerCall + 1 {
		models = append(models, &protos.NewModel{Key: tasktest.Key(0x23, i+1), ComputeTaskKey: b.Train, ComputeTaskOutputIdentifier: "model", Address: tasktest.Addr("m")})
	}
	for _, tt := range []struct {
		name, tx string
		req      proto.Message
		want     string
	}{
		{"tasks", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: many}, "1001 items exceed the maximum of 1000"},
		{"task bytes", "orchestrator.computetask:RegisterTasks", &protos.RegisterTasksParam{Tasks: big}, "exceeds the maximum of 524288 bytes"},
		{"samples", "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: samples}, "1001 items exceed"},
		{"sample keys", "orchestrator.datasample:UpdateDataSamples", &protos.UpdateDataSamplesParam{Keys: make([]string, validation.MaxSamplesPerCall+1), DataManagerKeys: []string{b.Manager["org1"]}}, "1001 items exceed"},
		{"models", "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: models}, "101 items exceed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := n.StateDigest()
			err := n.Submit("org1", tt.tx, tt.req, nil)
			if err == nil || !strings.Contains(err.Error(), string(orcerr.InvalidAsset)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want InvalidAsset with %q", err, tt.want)
			}
			if n.StateDigest() != before {
				t.Fatal("a refused call changed the state")
			}
		})
	}
}
