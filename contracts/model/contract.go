// Package model is the contract of models, the assets compute tasks
// produce: a task's worker registers them while the task executes, for
// outputs of kind model; they inherit the output's permissions.
package model

import (
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerModel registers one model (deprecated form of RegisterModels).
func (c *Contract) registerModel(l *ledger.Tx, in *protos.NewModel) (rpc.Response[*protos.Model], error) {
	return computetask.Run(l, func(s *computetask.Session, caller string) (*protos.Model, error) {
		models, err := register(s, []*protos.NewModel{in}, caller)
		if err != nil {
			return nil, err
		}
		return models[0], nil
	})
}

// registerModels registers models of one task, all or none.
func (c *Contract) registerModels(l *ledger.Tx, in *protos.RegisterModelsParam) (rpc.Response[*protos.RegisterModelsResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, caller string) (*protos.RegisterModelsResponse, error) {
		if err := validation.BatchLen("models", len(in.GetModels()), validation.MaxModelsPerCall); err != nil {
			return nil, err
		}
		models, err := register(s, in.GetModels(), caller)
		if err != nil {
			return nil, err
		}
		return &protos.RegisterModelsResponse{Models: models}, nil
	})
}

// getModel returns one model: its stored bytes, which are the response.
func (c *Contract) getModel(l *ledger.Tx, in *protos.GetModelParam) (rpc.Response[*protos.Model], error) {
	return rpc.Encoded[*protos.Model](ledger.GetRaw(l, ledger.ModelKind, in.GetKey()))
}

// getComputeTaskOutputModels returns the models a task registered.
func (c *Contract) getComputeTaskOutputModels(l *ledger.Tx, in *protos.GetComputeTaskModelsParam) (rpc.Response[*protos.GetComputeTaskModelsResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, _ string) (*protos.GetComputeTaskModelsResponse, error) {
		models, err := ledger.ComputeTaskOutputModels(s.Env().Stub(), in.GetComputeTaskKey())
		if err != nil {
			return nil, err
		}
		return &protos.GetComputeTaskModelsResponse{Models: models}, nil
	})
}

// register checks and stores models of one executing task for its worker.
func register(s *computetask.Session, batch []*protos.NewModel, requester string) ([]*protos.Model, error) {
	if len(batch) == 0 {
		return nil, orcerr.New(orcerr.BadRequest, "no model to register")
	}
	stub := s.Env().Stub()
	task, err := s.Task(batch[0].GetComputeTaskKey())
	if err != nil {
		return nil, err
	}
	assets, err := ledger.ComputeTaskOutputAssets(stub, task.GetKey(), "")
	if err != nil {
		return nil, err
	}
	count := make(map[string]int)
	for _, a := range assets {
		count[a.GetComputeTaskOutputIdentifier()]++
	}
	keys := make([]string, 0, len(batch))
	for _, nm := range batch {
		keys = append(keys, nm.GetKey())
	}
	existing, err := ledger.GetModels(stub, keys)
	if err != nil {
		return nil, err
	}
	now := s.Env().Now()
	seen := make(map[string]bool, len(batch))
	models := make([]*protos.Model, 0, len(batch))
	for _, nm := range batch {
		if nm.GetComputeTaskKey() != task.GetKey() {
			return nil, orcerr.New(orcerr.BadRequest, "All models should be part of the same task")
		}
		if err := validateNewModel(nm); err != nil {
			return nil, validation.Asset("model", err)
		}
		if task.GetWorker() != requester {
			return nil, orcerr.New(orcerr.PermissionDenied, "only %q worker can register model (compute task %s)", task.GetWorker(), task.GetKey())
		}
		if task.GetStatus() != protos.ComputeTaskStatus_STATUS_EXECUTING {
			return nil, orcerr.New(orcerr.BadRequest, "cannot register model for task with status %q (compute task %s)", task.GetStatus().String(), task.GetKey())
		}
		id := nm.GetComputeTaskOutputIdentifier()
		out, ok := task.GetOutputs()[id]
		if !ok {
			return nil, orcerr.New(orcerr.MissingTaskOutput, "Task %q has no output named %q", task.GetKey(), id)
		}
		fn, err := s.Function(task.GetFunctionKey())
		if err != nil {
			return nil, err
		}
		fo, ok := fn.GetOutputs()[id]
		if !ok {
			return nil, orcerr.New(orcerr.Internal, "missing function output %q for task %q (function %s)", id, task.GetKey(), fn.GetKey())
		}
		if fo.GetKind() != protos.AssetKind_ASSET_MODEL {
			return nil, orcerr.New(orcerr.IncompatibleKind, "Incompatible kind for task %q: output %q expects %q, received %q", task.GetKey(), id, fo.GetKind().String(), protos.AssetKind_ASSET_MODEL.String())
		}
		if count[id] >= 1 && !fo.GetMultiple() {
			return nil, orcerr.New(orcerr.Conflict, "compute task %q already has its unique output %q registered", task.GetKey(), id)
		}
		if _, ok := existing[nm.GetKey()]; ok || seen[nm.GetKey()] {
			return nil, orcerr.New(orcerr.Conflict, "model with key %q already exists", nm.GetKey())
		}
		seen[nm.GetKey()] = true
		m := &protos.Model{
			Key:            nm.GetKey(),
			ComputeTaskKey: task.GetKey(),
			Address:        nm.GetAddress(),
			Permissions:    out.GetPermissions(),
			Owner:          requester,
			CreationDate:   now,
		}
		if err := ledger.PutModel(stub, m); err != nil {
			return nil, err
		}
		if err := s.Emit(protos.EventKind_EVENT_ASSET_CREATED, protos.AssetKind_ASSET_MODEL, m.GetKey(), m, nil); err != nil {
			return nil, err
		}
		link := &protos.ComputeTaskOutputAsset{
			ComputeTaskKey:              task.GetKey(),
			ComputeTaskOutputIdentifier: id,
			AssetKind:                   protos.AssetKind_ASSET_MODEL,
			AssetKey:                    m.GetKey(),
		}
		if err := s.AddOutputAsset(link, count[id]); err != nil {
			return nil, err
		}
		count[id]++
		models = append(models, m)
	}
	return models, nil
}
