//go:build couchdb

package couchstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/store"
)

// TestDatabaseHygiene overwrites the same small keys many times (each
// update rewrites B-tree nodes: without compaction the file grows several
// times faster than the data): the database has the store's _revs_limit,
// and the compactions the store starts keep the file at most 3 times its
// live data (sizes.file vs sizes.active of GET /db).
func TestDatabaseHygiene(t *testing.T) {
	o := newOpener(t, newPrefix())
	o.tune = func(s *Store) {
		s.compactEvery = 1 << 20 // look at the sizes after every MB written
		s.compactLook = 500 * time.Millisecond
		s.applyEvery = 10 * time.Millisecond
	}
	s := openStore(t, o, "hygiene")
	ctx := context.Background()

	if s.sdbPath == s.dbPath {
		t.Fatalf("state database %s is the journal's: want a database of its own", s.sdbPath)
	}
	for _, db := range []string{s.dbPath, s.sdbPath} {
		resp, err := o.raw.do(ctx, http.MethodGet, db+"/_revs_limit", nil)
		if err != nil {
			t.Fatal(err)
		}
		limit, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := strings.TrimSpace(string(limit)); got != fmt.Sprint(revsLimit) {
			t.Errorf("%s: _revs_limit = %s, want %d", db, got, revsLimit)
		}
	}

	// Incompressible values (CouchDB compresses what it stores).
	rnd := rand.New(rand.NewPCG(1, 2))
	value := make([]byte, 40)
	const commits, keys = 300, 100
	for i := range commits {
		b := &store.Batch{TxID: fmt.Sprint("t", i)}
		for k := range keys {
			for j := range value {
				value[j] = byte(rnd.Uint32())
			}
			b.Writes = append(b.Writes, store.Write{Key: fmt.Sprint("key", k), Value: bytes.Clone(value)})
		}
		commit(t, s, b)
		if i%20 == 0 {
			waitApplied(t, s) // let the applier write every round's versions
		}
	}
	waitApplied(t, s)
	var file, active int64
	for deadline := time.Now().Add(120 * time.Second); ; {
		st, err := s.sdb.Stats(ctx) // the overwritten state documents
		if err != nil {
			t.Fatal(err)
		}
		file, active = st.DiskSize, st.ActiveSize
		if !st.CompactRunning && file <= 3*active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d commits of %d keys: file %d bytes for %d live (%.1fx), want at most 3x",
				commits, keys, file, active, float64(file)/float64(active))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if compactions := s.compactions.Load(); compactions == 0 {
		t.Errorf("the store started no compaction (file %d, live %d)", file, active)
	} else {
		t.Logf("the store started %d compactions", compactions)
	}
	t.Logf("after %d commits of %d keys of 40 bytes: file %d bytes, live %d (%.2fx)", commits, keys, file, active, float64(file)/float64(active))
}
