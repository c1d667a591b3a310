package computetask

import (
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// inputsDefined are the statuses in which all inputs of a task exist.
var inputsDefined = []protos.ComputeTaskStatus{
	protos.ComputeTaskStatus_STATUS_EXECUTING,
	protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT,
	protos.ComputeTaskStatus_STATUS_FAILED,
}

// InputAssets resolves the inputs of a task into the assets it reads: the
// referenced assets, and the assets its parents registered for the
// referenced outputs.
func (s *Session) InputAssets(key string) ([]*protos.ComputeTaskInputAsset, error) {
	t, err := s.Task(key)
	if err != nil {
		return nil, err
	}
	defined := false
	for _, st := range inputsDefined {
		defined = defined || st == t.GetStatus()
	}
	if !defined {
		return nil, orcerr.New(orcerr.BadRequest, "Task inputs may not be defined in current task status (%q): compute task %s", t.GetStatus().String(), key)
	}
	fn, err := s.Function(t.GetFunctionKey())
	if err != nil {
		return nil, err
	}
	assets := make([]*protos.ComputeTaskInputAsset, 0, len(t.GetInputs()))
	for _, in := range t.GetInputs() {
		fi, ok := fn.GetInputs()[in.GetIdentifier()]
		if !ok {
			return nil, orcerr.New(orcerr.Internal, "missing function input: function %s has no input %q", fn.GetKey(), in.GetIdentifier())
		}
		switch ref := in.GetRef().(type) {
		case *protos.ComputeTaskInput_AssetKey:
			a, err := s.inputAsset(fi.GetKind(), ref.AssetKey, in.GetIdentifier())
			if err != nil {
				return nil, err
			}
			assets = append(assets, a)
		case *protos.ComputeTaskInput_ParentTaskOutput:
			outs, err := ledger.ComputeTaskOutputAssets(s.stub, ref.ParentTaskOutput.GetParentTaskKey(), ref.ParentTaskOutput.GetOutputIdentifier())
			if err != nil {
				return nil, err
			}
			for _, o := range outs {
				a, err := s.inputAsset(o.GetAssetKind(), o.GetAssetKey(), in.GetIdentifier())
				if err != nil {
					return nil, err
				}
				assets = append(assets, a)
			}
		default:
			return nil, orcerr.New(orcerr.Unimplemented, "unsupported input type: %T", ref)
		}
	}
	return assets, nil
}

func (s *Session) inputAsset(kind protos.AssetKind, key, id string) (*protos.ComputeTaskInputAsset, error) {
	a := &protos.ComputeTaskInputAsset{Identifier: id}
	switch kind {
	case protos.AssetKind_ASSET_MODEL:
		m, err := ledger.GetModel(s.stub, key)
		if err != nil {
			return nil, err
		}
		a.Asset = &protos.ComputeTaskInputAsset_Model{Model: m}
	case protos.AssetKind_ASSET_DATA_MANAGER:
		dm, err := s.dataManager(key)
		if err != nil {
			return nil, err
		}
		a.Asset = &protos.ComputeTaskInputAsset_DataManager{DataManager: dm}
	case protos.AssetKind_ASSET_DATA_SAMPLE:
		ds, err := s.dataSample(key)
		if err != nil {
			return nil, err
		}
		a.Asset = &protos.ComputeTaskInputAsset_DataSample{DataSample: ds}
	default:
		return nil, orcerr.New(orcerr.Unimplemented, "unsupported input kind: %q", kind.String())
	}
	return a, nil
}

// DisableOutput disables the assets of a transient output of a finished
// task once all the children that could read them are finished too. Only
// the worker may.
func (s *Session) DisableOutput(taskKey, id, requester string) error {
	t, err := s.Task(taskKey)
	if err != nil {
		return err
	}
	if t.GetWorker() != requester {
		return orcerr.New(orcerr.PermissionDenied, "only the worker can disable a task output (compute task %s)", taskKey)
	}
	if !IsTerminal(t.GetStatus()) {
		return orcerr.New(orcerr.CannotDisableOutput, "cannot disable asset: task not in final state (compute task %s is %s)", taskKey, t.GetStatus())
	}
	out, ok := t.GetOutputs()[id]
	if !ok {
		return orcerr.New(orcerr.CannotDisableOutput, "there is no output identifier %s for task %s", id, taskKey)
	}
	if !out.GetTransient() {
		return orcerr.New(orcerr.CannotDisableOutput, "output is not transient: output %q of compute task %s", id, taskKey)
	}
	assets, err := ledger.ComputeTaskOutputAssets(s.stub, taskKey, id)
	if err != nil {
		return err
	}
	if len(assets) == 0 {
		return orcerr.New(orcerr.CannotDisableOutput, "there is no output asset with identifier %s for task %s", id, taskKey)
	}
	if k := assets[0].GetAssetKind(); k != protos.AssetKind_ASSET_MODEL {
		return orcerr.New(orcerr.CannotDisableOutput, "cannot disable output of kind: %s", k)
	}
	children, err := ledger.ComputeTaskChildren(s.stub, taskKey)
	if err != nil {
		return err
	}
	if len(children) == 0 {
		return orcerr.New(orcerr.CannotDisableOutput, "cannot disable output of a task with no children (compute task %s)", taskKey)
	}
	if err := s.loadTasks(children); err != nil {
		return err
	}
	for _, k := range children {
		c, err := s.Task(k)
		if err != nil {
			return err
		}
		if !IsTerminal(c.GetStatus()) {
			return orcerr.New(orcerr.CannotDisableOutput, "cannot disable asset: child not in final state (compute task %s, child %s)", taskKey, k)
		}
	}
	for _, a := range assets {
		if err := s.DisableModel(a.GetAssetKey()); err != nil {
			return err
		}
	}
	return nil
}

// DisableModel forgets the address of a model and says so with an event.
func (s *Session) DisableModel(key string) error {
	m, err := ledger.GetModel(s.stub, key)
	if err != nil {
		return err
	}
	m.Address = nil
	if err := ledger.PutModel(s.stub, m); err != nil {
		return err
	}
	return s.Emit(protos.EventKind_EVENT_ASSET_DISABLED, protos.AssetKind_ASSET_MODEL, key, m, nil)
}

// AddOutputAsset records that an asset fills a task output, at the given
// position among that output's assets, and emits the link event.
func (s *Session) AddOutputAsset(a *protos.ComputeTaskOutputAsset, pos int) error {
	if err := ledger.AddComputeTaskOutputAsset(s.stub, a, pos); err != nil {
		return err
	}
	return s.Emit(protos.EventKind_EVENT_ASSET_CREATED, protos.AssetKind_ASSET_COMPUTE_TASK_OUTPUT_ASSET, a.GetComputeTaskKey(), a, nil)
}
