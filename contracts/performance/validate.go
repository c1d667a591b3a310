package performance

import (
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/protos"
)

// validateNewPerformance checks the shape of a new performance: the UUID of
// its task and the identifier of the task output it fills.
func validateNewPerformance(p *protos.NewPerformance) error {
	if err := validation.UUID("compute_task_key", p.GetComputeTaskKey()); err != nil {
		return err
	}
	return validation.Required("compute_task_output_identifier", p.GetComputeTaskOutputIdentifier())
}
