package solotest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/store"
)

// Bench measures committed transactions per second on stores from
// newOpener, for single-key and 100-write transactions at concurrency 1 and
// 16, both through solo (the test contract over the stub) and on the raw
// store (Store.Commit of the same writes: the limit). Each sub-benchmark
// runs b.N transactions of each kind and reports stub-tx/s, raw-tx/s and
// their ratio stub/raw. Keep it short, e.g. -benchtime 200x.
func Bench(b *testing.B, newOpener func(b *testing.B) store.Opener) {
	for _, keys := range []int{1, 100} {
		for _, conc := range []int{1, 16} {
			b.Run(fmt.Sprintf("keys=%d/conc=%d", keys, conc), func(b *testing.B) {
				opener := newOpener(b)
				p := NewPeer(b, opener)
				st, err := p.Store(context.Background(), Channel)
				if err != nil {
					b.Fatal(err)
				}
				raw := func(i int) error {
					bt := &store.Batch{TxID: fmt.Sprint("raw", i)}
					prefix := fmt.Sprintf("raw%08d", i)
					for k := range keys {
						bt.Writes = append(bt.Writes, store.Write{Key: fmt.Sprintf("%s/%03d", prefix, k), Value: []byte(prefix)})
					}
					bt.Event = &store.Event{TxID: bt.TxID, Name: "putn", Payload: []byte(prefix)}
					return st.Commit(context.Background(), bt)
				}
				viaStub := func(i int) error {
					_, err := p.Submit(context.Background(), solo.Proposal{
						Channel: Channel, Creator: Org1,
						Args: [][]byte{[]byte("test:PutN"), fmt.Appendf(nil, "stub%08d", i), fmt.Append(nil, keys)},
					})
					return err
				}
				b.ResetTimer()
				rawRate := runConcurrent(b, conc, raw)
				stubRate := runConcurrent(b, conc, viaStub)
				b.ReportMetric(rawRate, "raw-tx/s")
				b.ReportMetric(stubRate, "stub-tx/s")
				b.ReportMetric(stubRate/rawRate, "stub/raw")
			})
		}
	}
}

// runConcurrent runs fn(0..b.N-1) on conc goroutines and returns calls/s.
func runConcurrent(b *testing.B, conc int, fn func(i int) error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return float64(b.N) / time.Since(start).Seconds()
}
