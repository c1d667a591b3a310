//go:build couchdb

package e2e

import (
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"
)

// serverOnce prints once which CouchDB server the tests use.
var serverOnce sync.Once

// couchStore returns the flags that put the server's state in a fresh set
// of databases on COUCHDB_URL (make test starts a server).
func couchStore(t *testing.T) []string {
	t.Helper()
	u := os.Getenv("COUCHDB_URL")
	if u == "" {
		t.Fatal("COUCHDB_URL is not set: run the couchdb-tagged tests with `make test` (scripts/couchdb/with-couchdb.sh)")
	}
	serverOnce.Do(func() {
		where := "?"
		if pu, err := url.Parse(u); err == nil {
			where = pu.Redacted()
		}
		kind := os.Getenv("COUCHDB_SERVER")
		if kind == "" {
			kind = "unknown (COUCHDB_SERVER unset)"
		}
		fmt.Fprintf(os.Stderr, "e2e CouchDB tests: server %s at %s\n", kind, where)
	})
	return []string{"--couchdb", u, "--couchdb-prefix", fmt.Sprintf("e2e%x_", time.Now().UnixNano())}
}

func TestWorkflowCouchDB(t *testing.T) {
	p := startProc(t, couchStore(t)...)
	testWorkflow(t, p.addr, p.addr)
	p.stop()
}

func TestRestartCouchDB(t *testing.T) {
	testRestart(t, couchStore(t)...)
}
