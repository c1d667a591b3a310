//go:build couchdb

package couchstore

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedchain/orchestrator/solo/store"
)

// faultyTransport fails the first request that matches, either before
// sending it or after (the answer is lost).
type faultyTransport struct {
	match     func(*http.Request) bool
	afterSend bool
	fired     atomic.Bool
}

func (f *faultyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !f.match(req) || f.fired.Swap(true) {
		return http.DefaultTransport.RoundTrip(req)
	}
	if f.afterSend {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
	}
	return nil, errors.New("injected: connection reset")
}

func isJournalPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/"+commitPrefix+"0000")
}

func isBulkDocs(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/_bulk_docs") }

func TestLostAnswers(t *testing.T) {
	tests := []struct {
		name      string
		match     func(*http.Request) bool
		afterSend bool
		wantErr   bool // Commit fails
		committed bool // and the batch is there
	}{
		{"journal PUT answer lost", isJournalPut, true, false, true},
		{"journal PUT never sent", isJournalPut, false, true, false},
		{"_bulk_docs fails once", isBulkDocs, false, false, true},
		{"_bulk_docs answer lost", isBulkDocs, true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := newPrefix()
			newOpener(t, prefix) // cleanup of the databases
			ft := &faultyTransport{match: func(*http.Request) bool { return false }}
			o, err := NewOpener(serverURL(t), WithDBPrefix(prefix), WithHTTPClient(&http.Client{Transport: ft}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { o.Close() }) // after the stores' cleanups
			s := openStore(t, o, "faults")
			commit(t, s, putBatch("init", "k", "v0"))
			ft.match, ft.afterSend = tc.match, tc.afterSend
			err = s.Commit(context.Background(), &store.Batch{
				TxID:   "tx",
				Writes: []store.Write{{Key: "k", Value: []byte("v1")}},
				Event:  &store.Event{TxID: "tx", Name: "n"},
			})
			if err == nil {
				waitApplied(t, s) // _bulk_docs runs off the caller's path
			}
			if !ft.fired.Load() {
				t.Fatal("fault not injected")
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("commit: %v, want error %v", err, tc.wantErr)
			}
			want := map[bool]string{true: "v1", false: "v0"}[tc.committed]
			if kv := getKV(t, s, "k"); string(kv.Value) != want {
				t.Fatalf("k = %q, want %q", kv.Value, want)
			}
			commit(t, s, putBatch("after", "k", "v2"))
			evs, err := s.ReadEvents(context.Background(), 0, 0)
			if err != nil || len(evs) != map[bool]int{true: 1, false: 0}[tc.committed] {
				t.Fatalf("events %+v, %v", evs, err)
			}
		})
	}
}
