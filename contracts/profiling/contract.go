// Package profiling is the contract that records profiling steps of
// assets ("orchestrator.profiling"). A step is not stored as an asset: it
// is published, and kept, as an event.
package profiling

import (
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerProfilingStep records one step of an asset's processing
// (ProfilingStep -> google.protobuf.Empty).
func (c *Contract) registerProfilingStep(l *ledger.Tx, s *protos.ProfilingStep) (rpc.Response[*emptypb.Empty], error) {
	return rpc.Answer(registerStep(l, s))
}

func registerStep(l *ledger.Tx, s *protos.ProfilingStep) (*emptypb.Empty, error) {
	if err := validation.UUID("asset_key", s.GetAssetKey()); err != nil {
		return nil, validation.Asset("profiling_step", err)
	}
	if err := validation.Name("step", s.GetStep()); err != nil {
		return nil, validation.Asset("profiling_step", err)
	}
	if s.GetDuration() == 0 {
		return nil, orcerr.New(orcerr.InvalidAsset, "profiling_step is not valid: invalid duration: cannot be blank")
	}
	err := l.Emit(&protos.Event{
		EventKind: protos.EventKind_EVENT_ASSET_CREATED,
		AssetKind: protos.AssetKind_ASSET_PROFILING_STEP,
		AssetKey:  s.GetAssetKey(),
		Asset:     &protos.Event_ProfilingStep{ProfilingStep: s},
	})
	return &emptypb.Empty{}, err
}
