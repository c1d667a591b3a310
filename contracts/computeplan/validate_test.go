package computeplan

import (
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

const key = "0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a01"

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 101)
	cases := []struct {
		name  string
		err   error
		field string
	}{
		{"ok", validateNewPlan(&protos.NewComputePlan{Key: key, Name: "n", Tag: "t"}), ""},
		{"bad key", validateNewPlan(&protos.NewComputePlan{Key: "k", Name: "n"}), "key"},
		{"long tag", validateNewPlan(&protos.NewComputePlan{Key: key, Name: "n", Tag: long}), "tag"},
		{"no name", validateNewPlan(&protos.NewComputePlan{Key: key}), "name"},
		{"long name", validateNewPlan(&protos.NewComputePlan{Key: key, Name: long}), "name"},
		{"metadata", validateNewPlan(&protos.NewComputePlan{Key: key, Name: "n", Metadata: map[string]string{long: ""}}), "metadata"},
		{"update ok", validateUpdate(&protos.UpdateComputePlanParam{Key: key, Name: "n"}), ""},
		{"update key", validateUpdate(&protos.UpdateComputePlanParam{Name: "n"}), "key"},
		{"update name", validateUpdate(&protos.UpdateComputePlanParam{Key: key}), "name"},
	}
	for _, c := range cases {
		if c.field == "" {
			if c.err != nil {
				t.Errorf("%s: %v", c.name, c.err)
			}
			continue
		}
		if orcerr.KindOf(c.err) != orcerr.InvalidAsset || !strings.Contains(c.err.Error(), c.field) {
			t.Errorf("%s: %v, want invalid %s", c.name, c.err, c.field)
		}
	}
}
