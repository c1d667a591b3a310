// Package function is the contract of functions ("orchestrator.function"):
// the algorithms that compute tasks run, with their declared inputs and
// outputs, and the build of their images (WAITING -> BUILDING -> READY,
// or CANCELED / FAILED), whose progress moves the tasks that use them.
package function

import (
	"maps"
	"slices"
	"strings"

	"github.com/fedchain/orchestrator/contracts/permission"
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerFunction registers a function owned by the caller (NewFunction
// -> Function). Its status starts WAITING (for its image build).
func (c *Contract) registerFunction(l *ledger.Tx, in *protos.NewFunction) (rpc.Response[*protos.Function], error) {
	return rpc.AsCaller(l, in, register)
}

func invalid(format string, args ...any) error {
	return orcerr.New(orcerr.InvalidAsset, format, args...)
}

func validateIdentifier(field, id string) error {
	if id == "" || len([]rune(id)) > 100 {
		return invalid("invalid %s: identifier %q must have 1 to 100 characters", field, id)
	}
	return nil
}

func validateInputs(inputs map[string]*protos.FunctionInput) error {
	var dataManager, dataSample bool
	for _, id := range slices.Sorted(maps.Keys(inputs)) {
		in := inputs[id]
		if err := validateIdentifier("inputs", id); err != nil {
			return err
		}
		switch k := in.GetKind(); k {
		case protos.AssetKind_ASSET_UNKNOWN, protos.AssetKind_ASSET_MODEL, protos.AssetKind_ASSET_DATA_SAMPLE:
			dataSample = dataSample || k == protos.AssetKind_ASSET_DATA_SAMPLE
		case protos.AssetKind_ASSET_DATA_MANAGER:
			if in.GetMultiple() || in.GetOptional() {
				return invalid("invalid inputs: function input %q of kind DATA_MANAGER cannot be multiple or optional", id)
			}
			if dataManager {
				return invalid("invalid inputs: cannot have several inputs of kind %s", protos.AssetKind_ASSET_DATA_MANAGER)
			}
			dataManager = true
		default:
			return invalid("invalid inputs: input %q has kind %s, not one of MODEL, DATA_SAMPLE, DATA_MANAGER", id, k)
		}
	}
	if dataManager != dataSample {
		return invalid("invalid inputs: an input of kind %s needs an input of kind %s, and vice versa",
			protos.AssetKind_ASSET_DATA_MANAGER, protos.AssetKind_ASSET_DATA_SAMPLE)
	}
	return nil
}

func validateOutputs(outputs map[string]*protos.FunctionOutput) error {
	for _, id := range slices.Sorted(maps.Keys(outputs)) {
		out := outputs[id]
		if err := validateIdentifier("outputs", id); err != nil {
			return err
		}
		switch k := out.GetKind(); k {
		case protos.AssetKind_ASSET_UNKNOWN, protos.AssetKind_ASSET_MODEL:
		case protos.AssetKind_ASSET_PERFORMANCE:
			if out.GetMultiple() {
				return invalid("invalid outputs: output %q of kind PERFORMANCE cannot be multiple", id)
			}
		default:
			return invalid("invalid outputs: output %q has kind %s, not one of MODEL, PERFORMANCE", id, k)
		}
	}
	return nil
}

func validateNew(f *protos.NewFunction) error {
	if err := validation.UUID("key", f.GetKey()); err != nil {
		return err
	}
	if err := validation.Name("name", f.GetName()); err != nil {
		return err
	}
	if err := validation.Addressable("description", f.GetDescription()); err != nil {
		return err
	}
	if err := validation.Addressable("archive", f.GetArchive()); err != nil {
		return err
	}
	if err := validation.Metadata("metadata", f.GetMetadata()); err != nil {
		return err
	}
	if err := validation.Present("new_permissions", f.GetNewPermissions() != nil); err != nil {
		return err
	}
	if err := validateInputs(f.GetInputs()); err != nil {
		return err
	}
	return validateOutputs(f.GetOutputs())
}

func register(l *ledger.Tx, owner string, nf *protos.NewFunction) (*protos.Function, error) {
	if err := validateNew(nf); err != nil {
		return nil, validation.Asset("function", err)
	}
	exists, err := ledger.Exists(l, ledger.FunctionKind, nf.GetKey())
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, orcerr.New(orcerr.Conflict, "function with key %q already exists", nf.GetKey())
	}
	now, err := l.Now()
	if err != nil {
		return nil, err
	}
	f := &protos.Function{
		Key:          nf.GetKey(),
		Name:         nf.GetName(),
		Description:  nf.GetDescription(),
		Archive:      nf.GetArchive(),
		Metadata:     nf.GetMetadata(),
		Owner:        owner,
		CreationDate: now,
		Inputs:       nf.GetInputs(),
		Outputs:      nf.GetOutputs(),
		Status:       protos.FunctionStatus_FUNCTION_STATUS_WAITING,
		Image:        &protos.Addressable{},
	}
	if f.Permissions, err = permission.CreatePermissions(l, owner, nf.GetNewPermissions()); err != nil {
		return nil, err
	}
	if err := ledger.AddFunction(l, f); err != nil {
		return nil, err
	}
	return f, emit(l, protos.EventKind_EVENT_ASSET_CREATED, f, nil)
}

func emit(l *ledger.Tx, kind protos.EventKind, f *protos.Function, metadata map[string]string) error {
	return l.Emit(&protos.Event{
		EventKind: kind,
		AssetKind: protos.AssetKind_ASSET_FUNCTION,
		AssetKey:  f.GetKey(),
		Asset:     &protos.Event_Function{Function: f},
		Metadata:  metadata,
	})
}

// getFunction returns one function (GetFunctionParam -> Function).
func (c *Contract) getFunction(l *ledger.Tx, p *protos.GetFunctionParam) (rpc.Response[*protos.Function], error) {
	return rpc.Encoded[*protos.Function](ledger.GetRaw(l, ledger.FunctionKind, p.GetKey()))
}

// queryFunctions returns a page of functions by creation time, optionally
// only those used in a compute plan (QueryFunctionsParam ->
// QueryFunctionsResponse).
func (c *Contract) queryFunctions(l *ledger.Tx, p *protos.QueryFunctionsParam) (rpc.Response[*protos.QueryFunctionsResponse], error) {
	fs, next, err := ledger.QueryFunctions(l, p.GetFilter().GetComputePlanKey(), p.GetPageToken(), int(p.GetPageSize()))
	return rpc.Answer(&protos.QueryFunctionsResponse{Functions: fs, NextPageToken: next}, err)
}

// updateFunction renames a function of the caller and sets its image
// (UpdateFunctionParam -> UpdateFunctionResponse).
func (c *Contract) updateFunction(l *ledger.Tx, in *protos.UpdateFunctionParam) (rpc.Response[*protos.UpdateFunctionResponse], error) {
	return rpc.AsCaller(l, in, update)
}

func update(l *ledger.Tx, caller string, p *protos.UpdateFunctionParam) (*protos.UpdateFunctionResponse, error) {
	if err := validation.UUID("key", p.GetKey()); err != nil {
		return nil, validation.Asset("function", err)
	}
	if err := validation.Name("name", p.GetName()); err != nil {
		return nil, validation.Asset("function", err)
	}
	f, err := ledger.GetFunction(l, p.GetKey())
	if err != nil {
		return nil, err
	}
	if f.GetOwner() != caller {
		return nil, orcerr.New(orcerr.PermissionDenied, "requester does not own the function %s (requester %s)", f.GetKey(), caller)
	}
	f.Name = p.GetName()
	if p.GetImage().GetChecksum() != "" {
		f.Image = p.GetImage()
	}
	if f.GetImage().GetChecksum() == "" && f.GetStatus() == protos.FunctionStatus_FUNCTION_STATUS_READY {
		return nil, invalid("function is not valid: Image checksum should not be empty when function status is ready")
	}
	if err := ledger.UpdateFunction(l, f); err != nil {
		return nil, err
	}
	return &protos.UpdateFunctionResponse{}, emit(l, protos.EventKind_EVENT_ASSET_UPDATED, f, nil)
}

// transitions maps each action to the statuses it may start from and the
// status it leads to.
var transitions = map[protos.FunctionAction]struct {
	from []protos.FunctionStatus
	to   protos.FunctionStatus
}{
	protos.FunctionAction_FUNCTION_ACTION_BUILDING: {
		from: []protos.FunctionStatus{protos.FunctionStatus_FUNCTION_STATUS_WAITING},
		to:   protos.FunctionStatus_FUNCTION_STATUS_BUILDING,
	},
	protos.FunctionAction_FUNCTION_ACTION_READY: {
		from: []protos.FunctionStatus{protos.FunctionStatus_FUNCTION_STATUS_BUILDING},
		to:   protos.FunctionStatus_FUNCTION_STATUS_READY,
	},
	protos.FunctionAction_FUNCTION_ACTION_CANCELED: {
		from: []protos.FunctionStatus{protos.FunctionStatus_FUNCTION_STATUS_WAITING, protos.FunctionStatus_FUNCTION_STATUS_BUILDING},
		to:   protos.FunctionStatus_FUNCTION_STATUS_CANCELED,
	},
	protos.FunctionAction_FUNCTION_ACTION_FAILED: {
		from: []protos.FunctionStatus{protos.FunctionStatus_FUNCTION_STATUS_BUILDING},
		to:   protos.FunctionStatus_FUNCTION_STATUS_FAILED,
	},
}

// applyFunctionAction moves the build status of a function of the caller
// (ApplyFunctionActionParam -> ApplyFunctionActionResponse) and propagates
// it to the tasks that use the function. As in the reference, the request
// is not validated as such: an unknown action is OE0003, an unknown (or
// malformed) key OE0002.
func (c *Contract) applyFunctionAction(l *ledger.Tx, p *protos.ApplyFunctionActionParam) (rpc.Response[*protos.ApplyFunctionActionResponse], error) {
	caller, err := l.Caller()
	if err != nil {
		return rpc.Response[*protos.ApplyFunctionActionResponse]{}, err
	}
	return rpc.Answer(&protos.ApplyFunctionActionResponse{}, ApplyAction(l, p.GetFunctionKey(), p.GetAction(), "User action", caller))
}

// ApplyAction applies a build action to function key on behalf of
// requester, who must own it: it stores the new status, emits the update
// event (with the reason in its metadata) and moves the tasks that use the
// function. An action the current status does not allow fails with OE0003.
func ApplyAction(l *ledger.Tx, key string, action protos.FunctionAction, reason, requester string) error {
	t, ok := transitions[action]
	if !ok {
		return orcerr.New(orcerr.BadRequest, "unsupported action %s", action)
	}
	f, err := ledger.GetFunction(l, key)
	if err != nil {
		return err
	}
	if f.GetOwner() != requester {
		return orcerr.New(orcerr.PermissionDenied, "only function owner can update it (function %s)", key)
	}
	if !slices.Contains(t.from, f.GetStatus()) {
		return orcerr.New(orcerr.BadRequest, "cannot apply action %s to function %s in status %s: event inappropriate in current state %s",
			strings.TrimPrefix(action.String(), "FUNCTION_ACTION_"), key, f.GetStatus(), f.GetStatus())
	}
	f.Status = t.to
	if err := ledger.UpdateFunction(l, f); err != nil {
		return err
	}
	if err := emit(l, protos.EventKind_EVENT_ASSET_UPDATED, f, map[string]string{"reason": reason}); err != nil {
		return err
	}
	return propagateFunctionStatus(l, key, f.GetStatus(), reason)
}
