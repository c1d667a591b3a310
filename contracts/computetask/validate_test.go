package computetask

import (
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

const (
	k1 = "0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a01"
	k2 = "0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a02"
	k3 = "0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a03"
)

func validTask() *protos.NewComputeTask {
	return &protos.NewComputeTask{
		Key: k1, FunctionKey: k2, ComputePlanKey: k3,
		Metadata: map[string]string{"a": "b"},
		Inputs:   []*protos.ComputeTaskInput{assetIn("opener", k2), parentIn("model", k3, "model")},
		Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: &protos.NewPermissions{Public: true}}},
	}
}

func TestValidateNewTask(t *testing.T) {
	long := strings.Repeat("x", 101)
	cases := []struct {
		name   string
		change func(*protos.NewComputeTask)
		field  string // "" when valid
	}{
		{"valid", func(*protos.NewComputeTask) {}, ""},
		{"no key", func(t *protos.NewComputeTask) { t.Key = "" }, "key"},
		{"bad key", func(t *protos.NewComputeTask) { t.Key = "x" }, "key"},
		{"bad function", func(t *protos.NewComputeTask) { t.FunctionKey = "x" }, "function_key"},
		{"no plan", func(t *protos.NewComputeTask) { t.ComputePlanKey = "" }, "compute_plan_key"},
		{"long metadata key", func(t *protos.NewComputeTask) { t.Metadata[long] = "" }, "metadata"},
		{"long metadata value", func(t *protos.NewComputeTask) { t.Metadata["k"] = long }, "metadata"},
		{"input without identifier", func(t *protos.NewComputeTask) { t.Inputs[0].Identifier = "" }, "inputs[0].identifier"},
		{"input without ref", func(t *protos.NewComputeTask) { t.Inputs[1].Ref = nil }, "inputs[1].ref"},
		{"input bad asset key", func(t *protos.NewComputeTask) { t.Inputs[0] = assetIn("opener", "x") }, "inputs[0].asset_key"},
		{"input bad parent", func(t *protos.NewComputeTask) { t.Inputs[1] = parentIn("model", "x", "model") }, "parent_task_key"},
		{"input no output id", func(t *protos.NewComputeTask) { t.Inputs[1] = parentIn("model", k1, "") }, "output_identifier"},
		{"output blank id", func(t *protos.NewComputeTask) {
			t.Outputs[""] = &protos.NewComputeTaskOutput{Permissions: &protos.NewPermissions{}}
		}, "outputs"},
		{"output no permissions", func(t *protos.NewComputeTask) { t.Outputs["model"].Permissions = nil }, "permissions"},
	}
	for _, c := range cases {
		task := validTask()
		c.change(task)
		err := validateNewTask(task)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if orcerr.KindOf(err) != orcerr.InvalidAsset || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: err = %v, want invalid asset naming %s", c.name, err, c.field)
		}
	}
}
