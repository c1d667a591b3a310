// Package performance is the contract of performances: the scores a task's
// worker registers, once per performance output, while the task executes.
// They are public and identified by their task and output.
package performance

import (
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerPerformance registers the performance of a task output.
func (c *Contract) registerPerformance(l *ledger.Tx, in *protos.NewPerformance) (rpc.Response[*protos.Performance], error) {
	return computetask.Run(l, func(s *computetask.Session, caller string) (*protos.Performance, error) {
		return register(s, in, caller)
	})
}

// queryPerformances lists performances in creation order, a page at a time.
func (c *Contract) queryPerformances(l *ledger.Tx, in *protos.QueryPerformancesParam) (rpc.Response[*protos.QueryPerformancesResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, _ string) (*protos.QueryPerformancesResponse, error) {
		perfs, next, err := ledger.QueryPerformances(s.Env().Stub(), in.GetFilter(), in.GetPageToken(), in.GetPageSize())
		if err != nil {
			return nil, err
		}
		return &protos.QueryPerformancesResponse{Performances: perfs, NextPageToken: next}, nil
	})
}

func register(s *computetask.Session, np *protos.NewPerformance, requester string) (*protos.Performance, error) {
	if err := validateNewPerformance(np); err != nil {
		return nil, validation.Asset("performance", err)
	}
	stub := s.Env().Stub()
	task, err := s.Task(np.GetComputeTaskKey())
	if err != nil {
		return nil, err
	}
	if task.GetWorker() != requester {
		return nil, orcerr.New(orcerr.PermissionDenied, "only %q worker can register performance (compute task %s)", task.GetWorker(), task.GetKey())
	}
	if task.GetStatus() != protos.ComputeTaskStatus_STATUS_EXECUTING {
		return nil, orcerr.New(orcerr.BadRequest, "cannot register performance for task with status %q (compute task %s)", task.GetStatus().String(), task.GetKey())
	}
	id := np.GetComputeTaskOutputIdentifier()
	if _, ok := task.GetOutputs()[id]; !ok {
		return nil, orcerr.New(orcerr.MissingTaskOutput, "Task %q has no output named %q", task.GetKey(), id)
	}
	fn, err := s.Function(task.GetFunctionKey())
	if err != nil {
		return nil, err
	}
	if k := fn.GetOutputs()[id].GetKind(); k != protos.AssetKind_ASSET_PERFORMANCE {
		return nil, orcerr.New(orcerr.IncompatibleKind, "Incompatible kind for task %q: output %q expects %q, received %q", task.GetKey(), id, k.String(), protos.AssetKind_ASSET_PERFORMANCE.String())
	}
	perf := &protos.Performance{
		ComputeTaskKey:              task.GetKey(),
		ComputeTaskOutputIdentifier: id,
		PerformanceValue:            np.GetPerformanceValue(),
		CreationDate:                s.Env().Now(),
	}
	exists, err := ledger.PerformanceExists(stub, task.GetKey(), id)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, orcerr.New(orcerr.Conflict, "performance with key %q already exists", ledger.PerformanceKey(perf))
	}
	if err := ledger.AddPerformance(stub, perf); err != nil {
		return nil, err
	}
	if err := s.Emit(protos.EventKind_EVENT_ASSET_CREATED, protos.AssetKind_ASSET_PERFORMANCE, ledger.PerformanceKey(perf), perf, nil); err != nil {
		return nil, err
	}
	link := &protos.ComputeTaskOutputAsset{
		ComputeTaskKey:              task.GetKey(),
		ComputeTaskOutputIdentifier: id,
		AssetKind:                   protos.AssetKind_ASSET_PERFORMANCE,
		AssetKey:                    ledger.PerformanceKey(perf),
	}
	if err := s.AddOutputAsset(link, 0); err != nil {
		return nil, err
	}
	return perf, nil
}
