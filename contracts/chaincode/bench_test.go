package chaincode_test

import (
	"fmt"
	"testing"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// BenchmarkTransactions measures whole transactions of this module's
// contracts on solo over the memory store: proposal, contract API, ledger
// view, and for submits validation and commit.
func BenchmarkTransactions(b *testing.B) {
	n := cct.New(b, solotest.Start, cct.Once())
	n.RegisterOrgs("Org1MSP", "Org2MSP")
	fn := n.RegisterFunction("Org1MSP", cct.Key(1))
	n.RegisterDataManager("Org1MSP", cct.Key(2))
	b.Run("Evaluate/GetFunction", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n.MustEvaluate("Org2MSP", "orchestrator.function:GetFunction", &protos.GetFunctionParam{Key: fn.GetKey()}, new(protos.Function))
		}
	})
	seq := 1000
	b.Run("Submit/RegisterDataSamples50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := &protos.RegisterDataSamplesParam{}
			for range 50 {
				seq++
				p.Samples = append(p.Samples, &protos.NewDataSample{Key: cct.Key(seq), DataManagerKeys: []string{cct.Key(2)}, Checksum: cct.Checksum(fmt.Sprint(seq))})
			}
			n.MustSubmit("Org1MSP", "orchestrator.datasample:RegisterDataSamples", p, nil)
		}
		b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("Evaluate/QueryEvents50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res := new(protos.QueryEventsResponse)
			n.MustEvaluate("Org2MSP", "orchestrator.event:QueryEvents", &protos.QueryEventsParam{PageSize: 50,
				Filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_DATA_SAMPLE}}, res)
			if len(res.GetEvents()) != 50 {
				b.Fatalf("%d events", len(res.GetEvents()))
			}
		}
	})
}
