package model

import (
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

const key = "0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a01"

func TestValidateNewModel(t *testing.T) {
	addr := func(sum, url string) *protos.Addressable {
		return &protos.Addressable{Checksum: sum, StorageAddress: url}
	}
	good := strings.Repeat("0a", 32)
	cases := []struct {
		name  string
		m     *protos.NewModel
		field string
	}{
		{"ok", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "model", Address: addr(good, "https://host/m")}, ""},
		{"host only", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "model", Address: addr(good, "storage.test/m")}, ""},
		{"key", &protos.NewModel{Key: "x", ComputeTaskKey: key, ComputeTaskOutputIdentifier: "model", Address: addr(good, "http://h/m")}, "key"},
		{"task", &protos.NewModel{Key: key, ComputeTaskOutputIdentifier: "model", Address: addr(good, "http://h/m")}, "compute_task_key"},
		{"identifier", &protos.NewModel{Key: key, ComputeTaskKey: key, Address: addr(good, "http://h/m")}, "compute_task_output_identifier"},
		{"no address", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "m"}, "address"},
		{"short checksum", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "m", Address: addr("ab", "http://h/m")}, "checksum"},
		{"not hex", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "m", Address: addr(strings.Repeat("zz", 32), "http://h/m")}, "checksum"},
		{"no url", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "m", Address: addr(good, "")}, "storage_address"},
		{"bad url", &protos.NewModel{Key: key, ComputeTaskKey: key, ComputeTaskOutputIdentifier: "m", Address: addr(good, "not a url")}, "storage_address"},
	}
	for _, c := range cases {
		err := validateNewModel(c.m)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if orcerr.KindOf(err) != orcerr.InvalidAsset || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
		}
	}
}
