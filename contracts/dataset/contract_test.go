package dataset_test

import (
	"slices"
	"testing"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const getDataset = "orchestrator.dataset:GetDataset"

func TestGetDataset(t *testing.T) {
	n := cct.New(t, solotest.Start)
	n.RegisterOrgs("Org1MSP", "Org2MSP")
	dm1, dm2 := cct.Key(901), cct.Key(902)
	n.RegisterDataManager("Org1MSP", dm1)
	n.RegisterDataManager("Org2MSP", dm2)
	n.RegisterDataSamples("Org1MSP", dm1, cct.Key(3), cct.Key(1))
	n.RegisterDataSamples("Org1MSP", dm1, cct.Key(2))
	tests := []struct {
		name    string
		key     string
		want    orcerr.Kind
		samples []string
	}{
		{name: "samples by creation then key", key: dm1, samples: []string{cct.Key(1), cct.Key(3), cct.Key(2)}},
		{name: "no sample", key: dm2},
		{name: "unknown manager", key: cct.Key(999), want: orcerr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := new(protos.Dataset)
			err := n.Evaluate("Org2MSP", getDataset, &protos.GetDatasetParam{Key: tt.key}, ds)
			if cct.KindOf(err) != tt.want {
				t.Fatalf("error %v, want kind %q", err, tt.want)
			}
			if tt.want != "" {
				return
			}
			if ds.GetDataManager().GetKey() != tt.key || !slices.Equal(ds.GetDataSampleKeys(), tt.samples) {
				t.Errorf("dataset %v, want manager %s with samples %v", ds, tt.key, tt.samples)
			}
		})
	}
}
