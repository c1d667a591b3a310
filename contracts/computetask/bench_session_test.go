package computetask

import (
	"testing"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// BenchmarkSessionRegister registers 1,000-task plans (a train task per
// data sample then aggregations) in batches of 100 through solo's stub on
// the memory store, without the contract API around.
func BenchmarkSessionRegister(b *testing.B) {
	h := newHarness(b)
	h.seed()
	plans := 0
	tasks := 0
	for b.Loop() {
		plans++
		plan := uuid(20, plans)
		h.must(h.submit(func(s *Session) error {
			return ledger.PutComputePlan(s.stub, &protos.ComputePlan{Key: plan, Owner: "org1", CreationDate: s.env.Now()}, true)
		}))
		var prev string
		for batch := range 10 {
			var nts []*protos.NewComputeTask
			for i := range 100 {
				k := uuid(21, plans*1000+batch*100+i)
				if i%2 == 0 || prev == "" {
					nts = append(nts, trainTask(k, plan, dm1, []string{ds1a}))
				} else {
					nts = append(nts, aggTask(k, plan, "org1", prev))
				}
				prev = k
			}
			if _, err := h.register("org1", nts...); err != nil {
				b.Fatal(err)
			}
			tasks += len(nts)
		}
	}
	b.ReportMetric(float64(tasks)/b.Elapsed().Seconds(), "tasks/s")
}
