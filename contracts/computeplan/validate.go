package computeplan

import (
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// validateNewPlan checks the shape of a new plan: a UUID key, a name of 1 to
// 100 characters, a tag of at most 100 bytes and short metadata.
func validateNewPlan(p *protos.NewComputePlan) error {
	if err := validation.UUID("key", p.GetKey()); err != nil {
		return err
	}
	if len(p.GetTag()) > 100 {
		return orcerr.New(orcerr.InvalidAsset, "invalid tag: length must be no more than 100")
	}
	if err := validation.Name("name", p.GetName()); err != nil {
		return err
	}
	return validation.Metadata("metadata", p.GetMetadata())
}

// validateUpdate checks an update request: a UUID key and a valid new name.
func validateUpdate(p *protos.UpdateComputePlanParam) error {
	if err := validation.UUID("key", p.GetKey()); err != nil {
		return err
	}
	return validation.Name("name", p.GetName())
}
