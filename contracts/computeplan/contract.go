// Package computeplan is the contract of compute plans, the containers of
// compute tasks: registration, renaming, cancelation (which cancels the
// plan's tasks that have not started), queries and the running state,
// derived from the plan's tasks.
package computeplan

import (
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerPlan registers a new plan owned by the caller.
func (c *Contract) registerPlan(l *ledger.Tx, in *protos.NewComputePlan) (rpc.Response[*protos.ComputePlan], error) {
	return computetask.Run(l, func(s *computetask.Session, caller string) (*protos.ComputePlan, error) {
		if err := validateNewPlan(in); err != nil {
			return nil, validation.Asset("computeplan", err)
		}
		stub := s.Env().Stub()
		exists, err := ledger.ComputePlanExists(stub, in.GetKey())
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, orcerr.New(orcerr.Conflict, "computeplan with key %q already exists", in.GetKey())
		}
		p := &protos.ComputePlan{
			Key:          in.GetKey(),
			Owner:        caller,
			Tag:          in.GetTag(),
			Name:         in.GetName(),
			Metadata:     in.GetMetadata(),
			CreationDate: s.Env().Now(),
		}
		if err := ledger.PutComputePlan(stub, p, true); err != nil {
			return nil, err
		}
		if err := s.Emit(protos.EventKind_EVENT_ASSET_CREATED, protos.AssetKind_ASSET_COMPUTE_PLAN, p.GetKey(), p, nil); err != nil {
			return nil, err
		}
		return p, nil
	})
}

// getPlan returns one plan: its stored bytes, which are the response.
func (c *Contract) getPlan(l *ledger.Tx, in *protos.GetComputePlanParam) (rpc.Response[*protos.ComputePlan], error) {
	return rpc.Encoded[*protos.ComputePlan](ledger.GetRaw(l, ledger.ComputePlanKind, in.GetKey()))
}

// applyPlanAction applies an action of the plan owner; only cancelation
// exists.
func (c *Contract) applyPlanAction(l *ledger.Tx, in *protos.ApplyPlanActionParam) (rpc.Response[*protos.ApplyPlanActionResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, caller string) (*protos.ApplyPlanActionResponse, error) {
		p, err := s.Plan(in.GetKey())
		if err != nil {
			return nil, err
		}
		if p.GetOwner() != caller {
			return nil, orcerr.New(orcerr.PermissionDenied, "only plan owner can act on it (compute plan %s)", in.GetKey())
		}
		if in.GetAction() != protos.ComputePlanAction_PLAN_ACTION_CANCELED {
			return nil, orcerr.New(orcerr.Unimplemented, "plan action unimplemented: %s", in.GetAction())
		}
		if err := s.CancelPlan(in.GetKey(), caller); err != nil {
			return nil, err
		}
		return &protos.ApplyPlanActionResponse{}, nil
	})
}

// queryPlans lists plans in creation order, a page at a time, optionally
// those of one owner.
func (c *Contract) queryPlans(l *ledger.Tx, in *protos.QueryPlansParam) (rpc.Response[*protos.QueryPlansResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, _ string) (*protos.QueryPlansResponse, error) {
		plans, next, err := ledger.QueryComputePlans(s.Env().Stub(), in.GetFilter().GetOwner(), in.GetPageToken(), in.GetPageSize())
		if err != nil {
			return nil, err
		}
		return &protos.QueryPlansResponse{Plans: plans, NextPageToken: next}, nil
	})
}

// updatePlan renames a plan; only its owner may.
func (c *Contract) updatePlan(l *ledger.Tx, in *protos.UpdateComputePlanParam) (rpc.Response[*protos.UpdateComputePlanResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, caller string) (*protos.UpdateComputePlanResponse, error) {
		if err := validateUpdate(in); err != nil {
			return nil, validation.Asset("computeplan", err)
		}
		p, err := s.Plan(in.GetKey())
		if err != nil {
			return nil, err
		}
		if p.GetOwner() != caller {
			return nil, orcerr.New(orcerr.PermissionDenied, "requester does not own the compute plan %s", in.GetKey())
		}
		p.Name = in.GetName()
		if err := s.SavePlan(p); err != nil {
			return nil, err
		}
		if err := s.Emit(protos.EventKind_EVENT_ASSET_UPDATED, protos.AssetKind_ASSET_COMPUTE_PLAN, p.GetKey(), p, nil); err != nil {
			return nil, err
		}
		return &protos.UpdateComputePlanResponse{}, nil
	})
}

// isPlanRunning says whether a plan still has work going on.
func (c *Contract) isPlanRunning(l *ledger.Tx, in *protos.IsPlanRunningParam) (rpc.Response[*protos.IsPlanRunningResponse], error) {
	return computetask.Run(l, func(s *computetask.Session, _ string) (*protos.IsPlanRunningResponse, error) {
		running, err := s.PlanRunning(in.GetKey())
		if err != nil {
			return nil, err
		}
		return &protos.IsPlanRunningResponse{IsRunning: running}, nil
	})
}
