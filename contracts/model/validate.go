package model

import (
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/protos"
)

// validateNewModel checks the shape of a new model: UUID keys for the model
// and its task, an output identifier and a valid address.
func validateNewModel(m *protos.NewModel) error {
	if err := validation.UUID("key", m.GetKey()); err != nil {
		return err
	}
	if err := validation.UUID("compute_task_key", m.GetComputeTaskKey()); err != nil {
		return err
	}
	if err := validation.Required("compute_task_output_identifier", m.GetComputeTaskOutputIdentifier()); err != nil {
		return err
	}
	return validation.Addressable("address", m.GetAddress())
}
