package computetask

import (
	"fmt"
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
		// The field name is only built for an error: a batch of tasks has
		// hundreds of inputs. What is valid does not depend on it.
		if validateInput("", in) != nil {
			return validateInput(fmt.Sprintf("inputs[%d]", i), in)
		}
	}
	for _, id := range sortedKeys(t.GetOutputs()) {
		if err := validation.Required("outputs identifier", id); err != nil {
			return err
		}
		if t.GetOutputs()[id].GetPermissions() == nil {
			return validation.Present(fmt.Sprintf("outputs[%q].permissions", id), false)
		}
	}
	return nil
}

// validateInput checks the shape of a task input named field.
func validateInput(field string, in *protos.ComputeTaskInput) error {
	if err := validation.Required(field+".identifier", in.GetIdentifier()); err != nil {
		return err
	}
	switch ref := in.GetRef().(type) {
	case *protos.ComputeTaskInput_AssetKey:
		return validation.UUID(field+".asset_key", ref.AssetKey)
	case *protos.ComputeTaskInput_ParentTaskOutput:
		if err := validation.UUID(field+".parent_task_output.parent_task_key", ref.ParentTaskOutput.GetParentTaskKey()); err != nil {
			return err
		}
		return validation.Required(field+".parent_task_output.output_identifier", ref.ParentTaskOutput.GetOutputIdentifier())
	default:
		return validation.Present(field+".ref", false)
	}
}

// sortedKeys returns the keys of m in order, in one allocation (most maps
// here, a task's outputs, a function's inputs, have one to three keys).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
