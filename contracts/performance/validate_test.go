package performance

import (
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

func TestValidateNewPerformance(t *testing.T) {
	key := "0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a01"
	cases := []struct {
		p     *protos.NewPerformance
		field string
	}{
		{&protos.NewPerformance{ComputeTaskKey: key, ComputeTaskOutputIdentifier: "perf"}, ""},
		{&protos.NewPerformance{ComputeTaskOutputIdentifier: "perf"}, "compute_task_key"},
		{&protos.NewPerformance{ComputeTaskKey: key}, "compute_task_output_identifier"},
	}
	for _, c := range cases {
		err := validateNewPerformance(c.p)
		if c.field == "" && err != nil || c.field != "" && (orcerr.KindOf(err) != orcerr.InvalidAsset || !strings.Contains(err.Error(), c.field)) {
			t.Errorf("%v: %v, want %q", c.p, err, c.field)
		}
	}
}
