package pebblestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
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

// TestReadCacheNeverStale: cached values follow commits, old snapshots
// keep their values, and a Reader on an old snapshot cannot plant its
// stale value in the cache.
func TestReadCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(filepath.Join(t.TempDir(), "c.pebble"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the Readers' cleanups
	put := func(key, val string, del bool) {
		t.Helper()
		if err := st.Commit(ctx, &store.Batch{TxID: key + val, Writes: []store.Write{{Key: key, Value: []byte(val), Delete: del}}}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(r store.Reader, key string) string {
		t.Helper()
		kv, err := r.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if kv.Value == nil {
			return "<absent>"
		}
		return string(kv.Value)
	}
	begin := func() store.Reader {
		t.Helper()
		r, err := st.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	put("a", "1", false)
	put("b", "1", false)
	old := begin()
	if got := read(old, "a"); got != "1" { // cached now
		t.Fatalf("a = %s", got)
	}
	put("a", "2", false) // updates the cached entry
	put("b", "2", false) // b is not cached
	if got := read(old, "a"); got != "1" {
		t.Fatalf("old snapshot reads a = %s, want 1", got)
	}
	if got := read(old, "b"); got != "1" { // must not be cached: stale
		t.Fatalf("old snapshot reads b = %s, want 1", got)
	}
	now := begin()
	if got := read(now, "a"); got != "2" {
		t.Fatalf("new snapshot reads a = %s, want 2", got)
	}
	if got := read(now, "b"); got != "2" {
		t.Fatalf("new snapshot reads b = %s, want 2 (stale cache fill)", got)
	}
	beforeDelete := begin()
	put("a", "", true)
	if got := read(begin(), "a"); got != "<absent>" { // cached as absent
		t.Fatalf("after delete a = %s", got)
	}
	if got := read(beforeDelete, "a"); got != "2" {
		t.Fatalf("snapshot before the delete reads a = %s, want 2", got)
	}
	if got := read(begin(), "new"); got != "<absent>" { // cached as absent
		t.Fatalf("new = %s", got)
	}
	put("new", "x", false)
	if got := read(begin(), "new"); got != "x" {
		t.Fatalf("after its creation new = %s, want x", got)
	}
	kvs, err := begin().GetMany(ctx, []string{"b", "a", "zz", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range kvs {
		got = append(got, kv.Key+"="+string(kv.Value))
	}
	if want := "b=2 a= zz= b=2 c= d="; strings.Join(got, " ") != want {
		t.Fatalf("GetMany = %q, want %q", strings.Join(got, " "), want)
	}
}

// TestReadCacheNamespaces: the channels of one Opener share the read
// cache's memory but not its entries, and a folder opened again does not
// see the entries of its earlier opening, which another process may have
// made stale by writing in between (here, another Opener).
func TestReadCacheNamespaces(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	put := func(st store.Store, key, val string) {
		t.Helper()
		if err := st.Commit(ctx, &store.Batch{TxID: key + val, Writes: []store.Write{{Key: key, Value: []byte(val)}}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(st store.Store, key string) string { return string(storetest.Get(t, st, key).Value) }
	open := func(o store.Opener, channel string) store.Store {
		t.Helper()
		st, err := o.Open(ctx, channel)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	mine := pebblestore.Opener(dir)
	a, b := open(mine, "a"), open(mine, "b")
	put(a, "k", "a1")
	put(b, "k", "b1")
	if ga, gb := get(a, "k"), get(b, "k"); ga != "a1" || gb != "b1" {
		t.Fatalf("channels a and b read k = %q and %q, want a1 and b1", ga, gb)
	}
	get(a, "k") // from the cache now
	a.Close()
	b.Close()

	other := open(pebblestore.Opener(dir), "a")
	put(other, "k", "a2")
	other.Close()

	a = open(mine, "a")
	defer a.Close()
	if got := get(a, "k"); got != "a2" {
		t.Fatalf("channel a opened again reads k = %q, want a2 (written by another opener)", got)
	}
}
