//go:build couchdb

package couchstore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// feedCounter counts the _changes feeds the follower opens (continuous
// POSTs) and the rows they carry.
type feedCounter struct {
	feeds atomic.Int64
	rows  atomic.Int64
}

func (f *feedCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/_changes") && req.URL.Query().Get("feed") == "continuous" {
		f.feeds.Add(1)
		resp.Body = &rowCounter{ReadCloser: resp.Body, rows: &f.rows}
	}
	return resp, err
}

// rowCounter counts the change rows (lines holding an id) read through it.
type rowCounter struct {
	io.ReadCloser
	rows *atomic.Int64
}

func (r *rowCounter) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.rows.Add(int64(strings.Count(string(p[:n]), `"id"`)))
	return n, err
}

// TestFollowerWhileCommitting checks the follower's two regimes: while its
// process commits, its feed stays closed (the server sends no row per
// commit) and the commits learn another process's entries; once the process
// is idle, the feed is open again and another process's commit reaches its
// reads without any commit of its own.
func TestFollowerWhileCommitting(t *testing.T) {
	prefix := newPrefix()
	newOpener(t, prefix) // cleanup of the databases
	fc := &feedCounter{}
	o, err := NewOpener(serverURL(t), WithDBPrefix(prefix), WithHTTPClient(&http.Client{Transport: fc}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	a := openStore(t, o, "follow")
	b := openStore(t, anotherProcess(t, o), "follow")

	// A burst of sequential commits: the first one or two come back as
	// rows before the follower closes its feed, a few more on a machine so
	// loaded that the caller pauses for followIdle between two commits;
	// with the feed open throughout, every commit would.
	const n = 40
	rows0 := fc.rows.Load()
	for i := range n {
		commit(t, a, putBatch(fmt.Sprint("a", i), fmt.Sprint("a", i), "v"))
	}
	rows := fc.rows.Load() - rows0
	t.Logf("%d feed rows during %d sequential commits", rows, n)
	if rows > n/4 {
		t.Errorf("%d feed rows during %d sequential commits, want at most %d (the feed closes while the process commits)", rows, n, n/4)
	}

	// While a keeps committing, b commits: a's next commit meets b's entry
	// (409), learns it and commits after it.
	commit(t, b, putBatch("b1", "b1", "from b"))
	commit(t, a, putBatch("a-after", "a-after", "v"))
	if kv := getKV(t, a, "b1"); string(kv.Value) != "from b" {
		t.Errorf("a reads b1 = %q after its own next commit, want b's value", kv.Value)
	}

	// a idle: its feed is open again within followIdle, and b's commit
	// reaches a's reads with no commit of a.
	time.Sleep(2 * followIdle)
	commit(t, b, putBatch("b2", "b2", "idle"))
	deadline := time.Now().Add(10 * time.Second)
	for string(getKV(t, a, "b2").Value) != "idle" {
		if time.Now().After(deadline) {
			t.Fatal("an idle process did not learn another process's commit within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.Commit(context.Background(), putBatch("a-last", "a-last", "v")); err != nil {
		t.Fatal(err)
	}
}
