package computetask

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// TestRegisterTasksResponse checks that the response built from the
// tasks' records is the encoding of the response message.
func TestRegisterTasksResponse(t *testing.T) {
	var tasks []*protos.ComputeTask
	var records [][]byte
	for i := range 3 {
		tk := &protos.ComputeTask{Key: uuid(1, i), Owner: "org1", ComputePlanKey: uuid(2, 0), Rank: int32(i), Worker: "org2",
			CreationDate: &timestamppb.Timestamp{Seconds: 1e9, Nanos: int32(i)}, Metadata: map[string]string{"z": "1", "a": "2"},
			Inputs:         []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: uuid(3, i)}}},
			Outputs:        map[string]*protos.ComputeTaskOutput{"model": {Permissions: &protos.Permissions{Process: &protos.Permission{Public: true}}}, "b": {}},
			LogsPermission: &protos.Permission{AuthorizedIds: []string{"org1"}}, FunctionKey: uuid(4, 0),
			Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT}
		if i == 1 {
			// A large task, whose length needs a longer varint.
			for j := range 200 {
				tk.Inputs = append(tk.Inputs, &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: uuid(5, j)}})
			}
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tk)
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, tk)
		records = append(records, b)
	}
	for n := range len(tasks) + 1 {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&protos.RegisterTasksResponse{Tasks: tasks[:n]})
		if err != nil {
			t.Fatal(err)
		}
		res, err := rpc.Records[*protos.RegisterTasksResponse]("tasks", records[:n])
		if err != nil {
			t.Fatal(err)
		}
		got, err := res.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d tasks: response = %x, want %x", n, got, want)
		}
	}
}

// TestStoredRecordsAreEncodings checks that the records the ledger returns
// when it stores a task are the task's encoding, which the events and the
// RegisterTasks response reuse.
func TestStoredRecordsAreEncodings(t *testing.T) {
	h := newHarness(t)
	tk := &protos.ComputeTask{Key: uuid(1, 1), Owner: "org1", ComputePlanKey: uuid(2, 0), Worker: "org2", FunctionKey: uuid(4, 0),
		CreationDate: &timestamppb.Timestamp{Seconds: 7}, Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS,
		Metadata: map[string]string{"b": "1", "a": "2"}}
	h.must(h.submit(func(s *Session) error {
		b, err := ledger.StoreNewComputeTask(s.stub, tk, []string{uuid(1, 0)})
		if err != nil {
			return err
		}
		if want := encode(t, tk); !bytes.Equal(b, want) {
			t.Errorf("StoreNewComputeTask record = %x, want %x", b, want)
		}
		tk.Status = protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT
		b, err = ledger.StoreComputeTaskStatus(s.stub, tk, protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS)
		if err != nil {
			return err
		}
		if want := encode(t, tk); !bytes.Equal(b, want) {
			t.Errorf("StoreComputeTaskStatus record = %x, want %x", b, want)
		}
		return nil
	}))
	if got := h.task(tk.GetKey()); !proto.Equal(got, tk) {
		t.Errorf("stored task = %v, want %v", got, tk)
	}
}

func encode(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
