package datasample_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.datasample:RegisterDataSamples"
	update   = "orchestrator.datasample:UpdateDataSamples"
	get      = "orchestrator.datasample:GetDataSample"
	query    = "orchestrator.datasample:QueryDataSamples"
	dataset  = "orchestrator.dataset:GetDataset"
)

var (
	dm1 = cct.Key(901) // Org1's data manager
	dm2 = cct.Key(902) // Org1's second data manager
	dm3 = cct.Key(903) // Org2's data manager
)

func setup(t *testing.T) *cct.Net {
	n := cct.New(t, solotest.Start)
	n.RegisterOrgs("Org1MSP", "Org2MSP")
	n.RegisterDataManager("Org1MSP", dm1)
	n.RegisterDataManager("Org1MSP", dm2)
	n.RegisterDataManager("Org2MSP", dm3)
	return n
}

func sample(i int, dms ...string) *protos.NewDataSample {
	return &protos.NewDataSample{Key: cct.Key(i), DataManagerKeys: dms, Checksum: cct.Checksum(cct.Key(i))}
}

func TestRegisterDataSamples(t *testing.T) {
	tests := []struct {
		name    string
		caller  string
		samples []*protos.NewDataSample
		want    orcerr.Kind
	}{
		{name: "one", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, dm1)}},
		{name: "batch, two managers", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, dm1), sample(2, dm1, dm2), sample(3)}},
		{name: "empty", caller: "Org1MSP", want: orcerr.InvalidAsset},
		{name: "other's manager", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, dm1), sample(2, dm3)}, want: orcerr.PermissionDenied},
		{name: "unknown manager", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, cct.Key(999))}, want: orcerr.NotFound},
		{name: "existing sample", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, dm1), sample(50, dm1)}, want: orcerr.Conflict},
		{name: "twice in batch", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, dm1), sample(1, dm1)}, want: orcerr.Conflict},
		{name: "bad key", caller: "Org1MSP", samples: []*protos.NewDataSample{{Key: "x", Checksum: cct.Checksum("x")}}, want: orcerr.InvalidAsset},
		{name: "bad manager key", caller: "Org1MSP", samples: []*protos.NewDataSample{sample(1, "dm")}, want: orcerr.InvalidAsset},
		{name: "bad checksum", caller: "Org1MSP", samples: []*protos.NewDataSample{{Key: cct.Key(1), Checksum: "00"}}, want: orcerr.InvalidAsset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := setup(t)
			n.RegisterDataSamples("Org1MSP", dm1, cct.Key(50))
			res := new(protos.RegisterDataSamplesResponse)
			n.Expect(tt.want, func() error {
				return n.Submit(tt.caller, register, &protos.RegisterDataSamplesParam{Samples: tt.samples}, res)
			})
			if tt.want != "" {
				return
			}
			if len(res.GetDataSamples()) != len(tt.samples) || len(n.LastEvents()) != len(tt.samples) {
				t.Fatalf("registered %d samples, %d events, want %d", len(res.GetDataSamples()), len(n.LastEvents()), len(tt.samples))
			}
			for i, ds := range res.GetDataSamples() {
				if ds.GetKey() != tt.samples[i].GetKey() || ds.GetOwner() != tt.caller || !slices.Equal(ds.GetDataManagerKeys(), tt.samples[i].GetDataManagerKeys()) {
					t.Errorf("sample %d: %v", i, ds)
				}
				got := new(protos.DataSample)
				n.MustEvaluate("Org2MSP", get, &protos.GetDataSampleParam{Key: ds.GetKey()}, got)
				if !proto.Equal(got, ds) {
					t.Errorf("stored %v, registered %v", got, ds)
				}
				if ev := n.LastEvents()[i]; ev.GetAssetKey() != ds.GetKey() || !proto.Equal(ev.GetDataSample(), ds) {
					t.Errorf("event %d: %v", i, ev)
				}
			}
		})
	}
}

func TestUpdateDataSamples(t *testing.T) {
	tests := []struct {
		name   string
		caller string
		req    *protos.UpdateDataSamplesParam
		want   orcerr.Kind
		dm2    []string // samples in dataset dm2 afterwards
	}{
		{name: "link both", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{cct.Key(1), cct.Key(2)}, DataManagerKeys: []string{dm2}},
			dm2: []string{cct.Key(1), cct.Key(2)}},
		{name: "link one, repeated", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{cct.Key(2), cct.Key(2)}, DataManagerKeys: []string{dm2, dm1}},
			dm2: []string{cct.Key(2)}},
		{name: "no keys", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{DataManagerKeys: []string{dm2}}, want: orcerr.InvalidAsset},
		{name: "bad key", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{"x"}}, want: orcerr.InvalidAsset},
		{name: "bad manager", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{cct.Key(1)}, DataManagerKeys: []string{"y"}}, want: orcerr.InvalidAsset},
		{name: "other's manager", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{cct.Key(1)}, DataManagerKeys: []string{dm3}}, want: orcerr.PermissionDenied},
		{name: "other's sample", caller: "Org2MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{cct.Key(1)}, DataManagerKeys: []string{dm3}}, want: orcerr.PermissionDenied},
		{name: "unknown sample", caller: "Org1MSP", req: &protos.UpdateDataSamplesParam{Keys: []string{cct.Key(1), cct.Key(3)}, DataManagerKeys: []string{dm2}}, want: orcerr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := setup(t)
			n.RegisterDataSamples("Org1MSP", dm1, cct.Key(1), cct.Key(2))
			n.Expect(tt.want, func() error { return n.Submit(tt.caller, update, tt.req, new(protos.UpdateDataSamplesResponse)) })
			if tt.want != "" {
				return
			}
			ds := new(protos.Dataset)
			n.MustEvaluate("Org2MSP", dataset, &protos.GetDatasetParam{Key: dm2}, ds)
			if !slices.Equal(ds.GetDataSampleKeys(), tt.dm2) {
				t.Errorf("dataset %s holds %v, want %v", dm2, ds.GetDataSampleKeys(), tt.dm2)
			}
			n.MustEvaluate("Org2MSP", dataset, &protos.GetDatasetParam{Key: dm1}, ds)
			if want := []string{cct.Key(1), cct.Key(2)}; !slices.Equal(ds.GetDataSampleKeys(), want) {
				t.Errorf("dataset %s holds %v, want %v", dm1, ds.GetDataSampleKeys(), want)
			}
			if len(n.LastEvents()) != len(tt.dm2) {
				t.Errorf("%d events, want %d", len(n.LastEvents()), len(tt.dm2))
			}
			got := new(protos.DataSample)
			n.MustEvaluate("Org1MSP", get, &protos.GetDataSampleParam{Key: tt.dm2[0]}, got)
			if !slices.Equal(got.GetDataManagerKeys(), []string{dm1, dm2}) {
				t.Errorf("sample managers %v", got.GetDataManagerKeys())
			}
		})
	}
}

func TestQueryDataSamples(t *testing.T) {
	n := setup(t)
	// registration order (creation time) differs from key order
	n.RegisterDataSamples("Org1MSP", dm1, cct.Key(5), cct.Key(2))
	n.RegisterDataSamples("Org1MSP", dm2, cct.Key(4))
	n.RegisterDataSamples("Org1MSP", dm1, cct.Key(1), cct.Key(3))
	all := []string{cct.Key(2), cct.Key(5), cct.Key(4), cct.Key(1), cct.Key(3)}
	tests := []struct {
		name string
		keys []string
		size uint32
		want []string
	}{
		{name: "all", size: 0, want: all},
		{name: "all by 2", size: 2, want: all},
		{name: "all by 1", size: 1, want: all},
		{name: "filter", size: 2, keys: []string{cct.Key(3), cct.Key(9), cct.Key(5), cct.Key(1)}, want: []string{cct.Key(5), cct.Key(1), cct.Key(3)}},
		{name: "filter unknown", keys: []string{cct.Key(9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			token := ""
			for pages := 0; pages < 10; pages++ {
				res := new(protos.QueryDataSamplesResponse)
				n.MustEvaluate("Org2MSP", query, &protos.QueryDataSamplesParam{PageToken: token, PageSize: tt.size, Filter: &protos.DataSampleQueryFilter{Keys: tt.keys}}, res)
				if tt.size > 0 && len(res.GetDataSamples()) > int(tt.size) {
					t.Fatalf("page of %d", len(res.GetDataSamples()))
				}
				for _, ds := range res.GetDataSamples() {
					got = append(got, ds.GetKey())
				}
				if token = res.GetNextPageToken(); token == "" {
					break
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	err := n.Evaluate("Org1MSP", query, &protos.QueryDataSamplesParam{PageToken: "%%", Filter: &protos.DataSampleQueryFilter{Keys: []string{cct.Key(1)}}}, nil)
	if cct.KindOf(err) != orcerr.BadRequest {
		t.Errorf("bad token: %v", err)
	}
}
