// Package failurereport is the contract of failure reports
// ("orchestrator.failurereport"): the worker of a failed compute task, or
// the owner of a function whose image build failed, records where the logs
// are; registering the report also moves the task or function to FAILED.
package failurereport

import (
	"github.com/fedchain/orchestrator/contracts/function"
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// reason is the reason given to the status change a report causes.
const reason = "failure report registered"

func validateNew(r *protos.NewFailureReport) error {
	if err := validation.UUID("asset_key", r.GetAssetKey()); err != nil {
		return err
	}
	switch r.GetErrorType() {
	case protos.ErrorType_ERROR_TYPE_UNSPECIFIED, protos.ErrorType_ERROR_TYPE_BUILD,
		protos.ErrorType_ERROR_TYPE_EXECUTION, protos.ErrorType_ERROR_TYPE_INTERNAL:
	default:
		return orcerr.New(orcerr.InvalidAsset, "invalid error_type: unknown value %d", int32(r.GetErrorType()))
	}
	switch r.GetAssetType() {
	case protos.FailedAssetKind_FAILED_ASSET_UNKNOWN, protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK,
		protos.FailedAssetKind_FAILED_ASSET_FUNCTION:
	default:
		return orcerr.New(orcerr.InvalidAsset, "invalid asset_type: unknown value %d", int32(r.GetAssetType()))
	}
	switch r.GetErrorType() {
	case protos.ErrorType_ERROR_TYPE_BUILD, protos.ErrorType_ERROR_TYPE_EXECUTION:
		return validation.Addressable("logs_address", r.GetLogsAddress())
	default:
		if r.GetLogsAddress() != nil {
			return orcerr.New(orcerr.InvalidAsset, "invalid logs_address: must be blank for error type %s", r.GetErrorType())
		}
	}
	return nil
}

// registerFailureReport records the failure of a compute task (by its
// worker) or of a function build (by its owner) and moves the asset to
// FAILED (NewFailureReport -> FailureReport).
func (c *Contract) registerFailureReport(l *ledger.Tx, in *protos.NewFailureReport) (rpc.Response[*protos.FailureReport], error) {
	return rpc.AsCaller(l, in, register)
}

func register(l *ledger.Tx, caller string, r *protos.NewFailureReport) (*protos.FailureReport, error) {
	if err := validateNew(r); err != nil {
		return nil, validation.Asset("failurereport", err)
	}
	var err error
	switch r.GetAssetType() {
	case protos.FailedAssetKind_FAILED_ASSET_COMPUTE_TASK:
		err = failTask(l, r.GetAssetKey(), caller)
	case protos.FailedAssetKind_FAILED_ASSET_FUNCTION:
		err = failFunction(l, r.GetAssetKey(), caller)
	default:
		err = orcerr.New(orcerr.BadRequest, "can only register failure for asset_kind values function and compute task")
	}
	if err != nil {
		return nil, err
	}
	now, err := l.Now()
	if err != nil {
		return nil, err
	}
	fr := &protos.FailureReport{
		AssetKey:     r.GetAssetKey(),
		AssetType:    r.GetAssetType(),
		ErrorType:    r.GetErrorType(),
		LogsAddress:  r.GetLogsAddress(),
		CreationDate: now,
		Owner:        caller,
	}
	if err := ledger.PutFailureReport(l, fr); err != nil {
		return nil, err
	}
	err = l.Emit(&protos.Event{
		EventKind: protos.EventKind_EVENT_ASSET_CREATED,
		AssetKind: protos.AssetKind_ASSET_FAILURE_REPORT,
		AssetKey:  fr.GetAssetKey(),
		Asset:     &protos.Event_FailureReport{FailureReport: fr},
	})
	return fr, err
}

// failFunction moves a function whose build failed to FAILED; only its
// owner may report it.
func failFunction(l *ledger.Tx, key, caller string) error {
	f, err := ledger.GetFunction(l, key)
	if err != nil {
		return err
	}
	if f.GetOwner() != caller {
		return orcerr.New(orcerr.PermissionDenied, "only %q owner can register failure report for function %s", f.GetOwner(), key)
	}
	return function.ApplyAction(l, key, protos.FunctionAction_FUNCTION_ACTION_FAILED, reason, caller)
}

// getFailureReport returns the failure report of an asset
// (GetFailureReportParam -> FailureReport).
func (c *Contract) getFailureReport(l *ledger.Tx, p *protos.GetFailureReportParam) (rpc.Response[*protos.FailureReport], error) {
	return rpc.Encoded[*protos.FailureReport](ledger.GetRaw(l, ledger.FailureReportKind, p.GetAssetKey()))
}
