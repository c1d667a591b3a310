//go:build couchdb

package couchstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
)

// BenchmarkCommit measures committed transactions per second, raw store
// commits and through the solo stub, 1 and 100 writes per transaction,
// concurrency 1 and 16 (solotest.Bench).
//
//	scripts/couchdb/with-couchdb.sh go test -tags couchdb -run '^$' -bench Commit -benchtime 200x ./solo/couchstore/
func BenchmarkCommit(b *testing.B) {
	solotest.Bench(b, func(b *testing.B) store.Opener { return newOpener(b, newPrefix()) })
}

// BenchmarkSequentialCommit compares one caller's commits (8 writes of 300
// bytes and an event, about what a one-task RegisterTasks writes) with the
// floor under them: a bare PUT of a journal entry of the same size to the
// same server, through net/http. The difference is what the store adds on
// the caller's path.
//
//	scripts/couchdb/with-couchdb.sh go test -tags couchdb -run '^$' -bench SequentialCommit -benchtime 300x -count 3 ./solo/couchstore/
func BenchmarkSequentialCommit(b *testing.B) {
	batch := func(i int) *store.Batch {
		bt := &store.Batch{TxID: fmt.Sprint("tx", i), Event: &store.Event{Name: "task", Payload: bytes.Repeat([]byte("e"), 300)}}
		for k := range 8 {
			bt.Writes = append(bt.Writes, store.Write{Key: fmt.Sprintf("task/%d/%d", i, k), Value: bytes.Repeat([]byte("v"), 300)})
		}
		return bt
	}
	b.Run("bare-PUT", func(b *testing.B) {
		o := newOpener(b, newPrefix())
		s := openStore(b, o, "bare")
		ctx := context.Background()
		var doc commitDoc
		for _, w := range batch(0).Writes {
			doc.Writes = append(doc.Writes, commitWrite{ID: stateID(w.Key), Value: w.Value})
		}
		doc.Events = []commitEvent{{TxID: "tx0", Name: "task", Payload: bytes.Repeat([]byte("e"), 300)}}
		body, err := encodeEntry(&doc)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			resp, err := o.raw.do(ctx, http.MethodPut, s.dbPath+"/x"+fmt.Sprint(i), body)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("store-commit", func(b *testing.B) {
		o := newOpener(b, newPrefix())
		s := openStore(b, o, "commit")
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			if err := s.Commit(ctx, batch(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
