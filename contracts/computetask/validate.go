package computetask

import (
	"fmt"
	"maps"
	"slices"

	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/protos"
)

// validateNewTask checks the shape of a new task (no ledger access). The
// error names the faulty field.
func validateNewTask(t *protos.NewComputeTask) error {
	if err := validation.UUID("key", t.GetKey()); err != nil {
		return err
	}
	if err := validation.UUID("function_key", t.GetFunctionKey()); err != nil {
		return err
	}
	if err := validation.UUID("compute_plan_key", t.GetComputePlanKey()); err != nil {
		return err
	}
	if err := validation.Metadata("metadata", t.GetMetadata()); err != nil {
		return err
	}
	for i, in := range t.GetInputs() {
		field := fmt.Sprintf("inputs[%d]", i)
		if err := validation.Required(field+".identifier", in.GetIdentifier()); err != nil {
			return err
		}
		switch ref := in.GetRef().(type) {
		case *protos.ComputeTaskInput_AssetKey:
			if err := validation.UUID(field+".asset_key", ref.AssetKey); err != nil {
				return err
			}
		case *protos.ComputeTaskInput_ParentTaskOutput:
			if err := validation.UUID(field+".parent_task_output.parent_task_key", ref.ParentTaskOutput.GetParentTaskKey()); err != nil {
				return err
			}
			if err := validation.Required(field+".parent_task_output.output_identifier", ref.ParentTaskOutput.GetOutputIdentifier()); err != nil {
				return err
			}
		default:
			return validation.Present(field+".ref", false)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.GetOutputs())) {
		if err := validation.Required("outputs identifier", id); err != nil {
			return err
		}
		if err := validation.Present(fmt.Sprintf("outputs[%q].permissions", id), t.GetOutputs()[id].GetPermissions() != nil); err != nil {
			return err
		}
	}
	return nil
}
