package solobench

import (
	"fmt"
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/pebblestore"
)

// BenchmarkQueryEvents walks every stored event, ascending and descending,
// by pages of 200 (the load tool's page size), on the embedded store
// holding 1,000 or 20,000 registered tasks of which one in five ran its
// lifecycle; one operation is one full walk. It reports the events per CPU
// second of the whole process.
func BenchmarkQueryEvents(b *testing.B) {
	for _, tasks := range []int{1000, 20000} {
		for _, sort := range []protos.SortOrder{protos.SortOrder_ASCENDING, protos.SortOrder_DESCENDING} {
			b.Run(fmt.Sprintf("tasks=%d/%s", tasks, sort), func(b *testing.B) {
				n := newNet(b, pebblestore.Opener(b.TempDir(), pebblestore.WithNoSync()))
				for i := 0; i < tasks/taskBatch; i++ {
					keys, err := n.plan()
					if err != nil {
						b.Fatal(err)
					}
					if i%5 == 0 {
						for j, k := range keys {
							if err := n.runTask(k, i*taskBatch+j); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
				walk := func() int {
					seen, token := 0, ""
					for {
						var res protos.QueryEventsResponse
						if err := n.call(false, algoOrg, "orchestrator.event:QueryEvents", &protos.QueryEventsParam{PageToken: token, PageSize: 200, Sort: sort}, &res); err != nil {
							b.Fatal(err)
						}
						seen += len(res.GetEvents())
						if token = res.GetNextPageToken(); token == "" {
							return seen
						}
					}
				}
				events := walk()
				m := startCPU(b)
				for range b.N {
					if got := walk(); got != events {
						b.Fatalf("a walk found %d events, the first %d", got, events)
					}
				}
				m.report(b, events, "events")
			})
		}
	}
}
