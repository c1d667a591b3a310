//go:build couchdb

package couchstore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestBurstDoesNotWaitForApplier holds the applier while 400 commits go
// through (more than the 256 unapplied entries at which commits used to
// wait for it, the multi-second stalls of the lifecycle benchmark): none
// of them waits, the overlay serves every value, and a second process sees
// them all once the applier is let go. The state documents are in their
// own database, not in the journal's.
func TestBurstDoesNotWaitForApplier(t *testing.T) {
	o := newOpener(t, newPrefix())
	s := openStore(t, o, "burst")
	if s.sdbPath == s.dbPath {
		t.Fatalf("state database %s is the journal's: want a database of its own", s.sdbPath)
	}
	s.mu.Lock()
	gate := make(chan struct{})
	s.applyGate = gate
	s.mu.Unlock()
	const n = 400
	for i := range n {
		commit(t, s, putBatch(fmt.Sprint("t", i), fmt.Sprint("k", i), fmt.Sprint("v", i)))
	}
	if st := s.Stats(); st.BacklogWaits != 0 || st.Groups != n || st.Batches != n {
		t.Errorf("after %d commits with the applier held: %+v, want %d groups, %d batches and no backlog wait", n, st, n, n)
	}
	s.mu.Lock()
	unapplied := len(s.mem.unapplied)
	s.mu.Unlock()
	if unapplied < n {
		t.Errorf("%d entries unapplied with the applier held, want at least %d", unapplied, n)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		if kv := getKV(t, s, fmt.Sprint("k", i)); string(kv.Value) != fmt.Sprint("v", i) {
			t.Errorf("k%d = %q from the overlay, want v%d", i, kv.Value, i)
		}
	}
	s.mu.Lock()
	s.applyGate = nil
	s.mu.Unlock()
	close(gate)
	waitApplied(t, s)

	s2 := openStore(t, anotherProcess(t, o), "burst")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := s2.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kvs, err := r.Scan(ctx, "k", "l", 0)
	if err != nil || len(kvs) != n {
		t.Fatalf("another process scans %d keys (%v), want %d", len(kvs), err, n)
	}
}

// A journal database written in the layout before the state database
// (state documents beside the journal) keeps being read and written
// there: nothing acknowledged in it is lost to the new layout.
func TestOlderLayoutKeepsItsStateDocuments(t *testing.T) {
	o := newOpener(t, newPrefix())
	ctx := context.Background()
	name := dbName(o.prefix, "older")
	if err := o.client.CreateDB(ctx, name); err != nil {
		t.Fatal(err)
	}
	db := o.client.DB(name)
	applied := uint64(1)
	if _, err := db.Put(ctx, commitID(1), commitDoc{TxIDs: []string{"t1"}, Writes: []commitWrite{{ID: stateID("k"), Value: []byte("v1")}}, Nonce: "n", Applied: &applied}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, stateID("k"), stateDoc{Seq: 1, Value: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, o, "older")
	if s.sdbPath != s.dbPath {
		t.Fatalf("state database %s, want the journal's %s (older layout)", s.sdbPath, s.dbPath)
	}
	if kv := getKV(t, s, "k"); string(kv.Value) != "v1" || kv.Version != "1" {
		t.Fatalf("k = %q at %q, want v1 at 1", kv.Value, kv.Version)
	}
	commit(t, s, putBatch("t2", "k", "v2"))
	waitApplied(t, s)
	var doc stateDoc
	if err := db.Get(ctx, stateID("k")).ScanDoc(&doc); err != nil || string(doc.Value) != "v2" {
		t.Fatalf("state document of k in the journal database: %q, %v; want v2", doc.Value, err)
	}
}
