package pebblestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/pebblestore"
	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
	"github.com/fedchain/orchestrator/solo/store/storetest"
)

func newOpener(t *testing.T) store.Opener { return pebblestore.Opener(t.TempDir()) }

func openDir(dir string) store.Opener { return pebblestore.Opener(dir) }

func TestMain(m *testing.M) { solotest.CrashMain(m, openDir) }

func TestConformance(t *testing.T) { storetest.Run(t, newOpener) }

func TestChaincode(t *testing.T) { solotest.Run(t, newOpener) }

// TestCrash: every acknowledged commit survives a SIGKILL, none is partial.
func TestCrash(t *testing.T) { solotest.Crash(t, openDir) }

// TestReadersSeeCommittedOnly: a Reader begun before a commit keeps its
// snapshot; one begun after sees the commit.
func TestReadersSeeCommittedOnly(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "c.pebble"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, &store.Batch{TxID: "t1", Writes: []store.Write{{Key: "k", Value: []byte("v")}}}); err != nil {
		t.Fatal(err)
	}
	kv, err := before.Get(ctx, "k")
	if err != nil || kv.Value != nil {
		t.Fatalf("old reader sees %q, %v; want absent", kv.Value, err)
	}
	before.Close()
	after, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if kv, err := after.Get(ctx, "k"); err != nil || string(kv.Value) != "v" {
		t.Fatalf("new reader sees %q, %v; want v", kv.Value, err)
	}
}

// TestSecondOpenRefused: the folder is locked by the first Open.
func TestSecondOpenRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c.pebble")
	st, err := pebblestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st2, err := pebblestore.Open(dir); err == nil {
		st2.Close()
		t.Fatal("second Open of the same folder succeeded")
	}
}

// TestCloseWaitsForReaders: Close returns only once open Readers are closed,
// and the database closes cleanly afterwards.
func TestCloseWaitsForReaders(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "c.pebble"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with a Reader open", err)
	case <-time.After(100 * time.Millisecond):
	}
	r.Close()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := st.Begin(ctx); err == nil {
		t.Fatal("Begin after Close succeeded")
	}
}

func BenchmarkCommit(b *testing.B) {
	solotest.Bench(b, func(b *testing.B) store.Opener { return pebblestore.Opener(b.TempDir()) })
}

// BenchmarkGroupCommit: 16 concurrent single-key commits with groups of at
// most 1 (one log fsync per commit) and of up to 512.
func BenchmarkGroupCommit(b *testing.B) {
	for _, group := range []int{1, 512} {
		b.Run(fmt.Sprint("maxgroup=", group), func(b *testing.B) {
			st, err := pebblestore.Open(filepath.Join(b.TempDir(), "g.pebble"), pebblestore.WithMaxGroup(group))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var next atomic.Int64
			b.SetParallelism(8)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Sprintf("k%08d", next.Add(1))
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
