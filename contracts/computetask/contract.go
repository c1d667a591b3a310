package computetask

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// RegisterTasks registers a batch of tasks, all or none.
func (c *Contract) RegisterTasks(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	if err := validation.BatchRequest("RegisterTasks", len(req)); err != nil {
		return nil, err
	}
	in := new(protos.RegisterTasksParam)
	return runRaw(ctx, req, in, func(s *Session, caller string) ([]byte, error) {
		if err := validation.BatchLen("tasks", len(in.GetTasks()), validation.MaxTasksPerCall); err != nil {
			return nil, err
		}
		_, records, err := s.register(in.GetTasks(), caller)
		if err != nil {
			return nil, err
		}
		// The response lists the tasks, whose records are their
		// encodings: it need not encode them a third time (after their
		// records and events).
		return rpc.EncodeRecords(new(protos.RegisterTasksResponse), "tasks", records)
	})
}

// QueryTasks lists tasks matching a filter, a page at a time, in creation
// order.
func (c *Contract) QueryTasks(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	in := new(protos.QueryTasksParam)
	return Run(ctx, req, in, func(s *Session, _ string) (*protos.QueryTasksResponse, error) {
		tasks, next, err := ledger.QueryComputeTasks(s.stub, in.GetFilter(), in.GetPageToken(), in.GetPageSize())
		if err != nil {
			return nil, err
		}
		return &protos.QueryTasksResponse{Tasks: tasks, NextPageToken: next}, nil
	})
}

// GetTask returns one task: its stored bytes, which are the response.
func (c *Contract) GetTask(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	return rpc.ServeRaw(ctx, req, func(l *ledger.Tx, in *protos.GetTaskParam) ([]byte, error) {
		return ledger.GetComputeTaskRaw(l, in.GetKey())
	})
}

// ApplyTaskAction moves a task through its lifecycle on behalf of its owner
// or worker.
func (c *Contract) ApplyTaskAction(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	in := new(protos.ApplyTaskActionParam)
	return Run(ctx, req, in, func(s *Session, caller string) (*protos.ApplyTaskActionResponse, error) {
		if err := s.ApplyAction(in.GetComputeTaskKey(), in.GetAction(), in.GetLog(), caller); err != nil {
			return nil, err
		}
		return &protos.ApplyTaskActionResponse{}, nil
	})
}

// GetTaskInputAssets resolves the inputs of a task into assets.
func (c *Contract) GetTaskInputAssets(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	in := new(protos.GetTaskInputAssetsParam)
	return Run(ctx, req, in, func(s *Session, _ string) (*protos.GetTaskInputAssetsResponse, error) {
		assets, err := s.InputAssets(in.GetComputeTaskKey())
		if err != nil {
			return nil, err
		}
		return &protos.GetTaskInputAssetsResponse{Assets: assets}, nil
	})
}

// DisableOutput disables the assets of a transient task output.
func (c *Contract) DisableOutput(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	in := new(protos.DisableOutputParam)
	return Run(ctx, req, in, func(s *Session, caller string) (*protos.DisableOutputResponse, error) {
		if err := s.DisableOutput(in.GetComputeTaskKey(), in.GetIdentifier(), caller); err != nil {
			return nil, err
		}
		return &protos.DisableOutputResponse{}, nil
	})
}
