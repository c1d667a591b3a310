package boltstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/boltstore"
	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
	"github.com/fedchain/orchestrator/solo/store/storetest"
)

func newOpener(t *testing.T) store.Opener { return boltstore.Opener(t.TempDir()) }

func TestConformance(t *testing.T) { storetest.Run(t, newOpener) }

func TestChaincode(t *testing.T) { solotest.Run(t, newOpener) }

func BenchmarkCommit(b *testing.B) {
	solotest.Bench(b, func(b *testing.B) store.Opener { return boltstore.Opener(b.TempDir()) })
}

// BenchmarkGroupCommit shows what group commit buys: 16 concurrent
// single-key commits with groups of at most 1 (one fsync per commit) and
// of up to 512.
func BenchmarkGroupCommit(b *testing.B) {
	for _, group := range []int{1, 512} {
		b.Run(fmt.Sprint("maxgroup=", group), func(b *testing.B) {
			st, err := boltstore.Open(filepath.Join(b.TempDir(), "g.db"), boltstore.WithMaxGroup(group))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var next atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 CPUs
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					key := fmt.Sprintf("k%08d", i)
					if err := st.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: key, Value: []byte("v")}}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
		})
	}
}

func TestOversizedWriteFailsAlone(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	big := strings.Repeat("k", 40000)
	if err := st.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: big, Value: []byte("v")}}}); err == nil {
		t.Fatal("oversized key accepted")
	}
	if err := st.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: "ok", Value: []byte("v")}}}); err != nil {
		t.Fatalf("store unusable after a rejected batch: %v", err)
	}
}
