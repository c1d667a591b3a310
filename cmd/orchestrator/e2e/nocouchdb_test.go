//go:build !couchdb

package e2e

import "testing"

// TestCouchDB stands for the end-to-end tests on CouchDB, which need the
// couchdb build tag and COUCHDB_URL (make test sets both).
func TestCouchDB(t *testing.T) {
	t.Skip("CouchDB end-to-end tests need -tags couchdb and COUCHDB_URL (make test)")
}
