package computetask

import (
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// registerTasks registers a batch of tasks, all or none.
func (c *Contract) registerTasks(l *ledger.Tx, in *protos.RegisterTasksParam) (rpc.Response[*protos.RegisterTasksResponse], error) {
	var none rpc.Response[*protos.RegisterTasksResponse]
	s, caller, err := open(l)
	if err != nil {
		return none, err
	}
	if err := validation.BatchLen("tasks", len(in.GetTasks()), validation.MaxTasksPerCall); err != nil {
		return none, err
	}
	_, records, err := s.register(in.GetTasks(), caller)
	if err != nil {
		return none, err
	}
	// The response lists the tasks, whose records are their encodings: it
	// need not encode them a third time (after their records and events).
	return rpc.Records[*protos.RegisterTasksResponse]("tasks", records)
}

// queryTasks lists tasks matching a filter, a page at a time, in creation
// order: the page as the ledger writes it from the stored records.
func (c *Contract) queryTasks(l *ledger.Tx, in *protos.QueryTasksParam) (rpc.Response[*protos.QueryTasksResponse], error) {
	return rpc.Encoded[*protos.QueryTasksResponse](ledger.QueryComputeTaskPage(l, in.GetFilter(), in.GetPageToken(), in.GetPageSize()))
}

// getTask returns one task: its stored bytes, which are the response.
func (c *Contract) getTask(l *ledger.Tx, in *protos.GetTaskParam) (rpc.Response[*protos.ComputeTask], error) {
	return rpc.Encoded[*protos.ComputeTask](ledger.GetComputeTaskRaw(l, in.GetKey()))
}

// applyTaskAction moves a task through its lifecycle on behalf of its
// owner or worker.
func (c *Contract) applyTaskAction(l *ledger.Tx, in *protos.ApplyTaskActionParam) (rpc.Response[*protos.ApplyTaskActionResponse], error) {
	return Run(l, func(s *Session, caller string) (*protos.ApplyTaskActionResponse, error) {
		if err := s.ApplyAction(in.GetComputeTaskKey(), in.GetAction(), in.GetLog(), caller); err != nil {
			return nil, err
		}
		return &protos.ApplyTaskActionResponse{}, nil
	})
}

// getTaskInputAssets resolves the inputs of a task into assets.
func (c *Contract) getTaskInputAssets(l *ledger.Tx, in *protos.GetTaskInputAssetsParam) (rpc.Response[*protos.GetTaskInputAssetsResponse], error) {
	return Run(l, func(s *Session, _ string) (*protos.GetTaskInputAssetsResponse, error) {
		assets, err := s.InputAssets(in.GetComputeTaskKey())
		if err != nil {
			return nil, err
		}
		return &protos.GetTaskInputAssetsResponse{Assets: assets}, nil
	})
}

// disableOutput disables the assets of a transient task output.
func (c *Contract) disableOutput(l *ledger.Tx, in *protos.DisableOutputParam) (rpc.Response[*protos.DisableOutputResponse], error) {
	return Run(l, func(s *Session, caller string) (*protos.DisableOutputResponse, error) {
		if err := s.DisableOutput(in.GetComputeTaskKey(), in.GetIdentifier(), caller); err != nil {
			return nil, err
		}
		return &protos.DisableOutputResponse{}, nil
	})
}
