//go:build !couchdb

package couchstore

import "testing"

// TestCouchDB stands for the CouchDB-backed tests, which this build leaves
// out.
func TestCouchDB(t *testing.T) {
	t.Skip(needCouchDB)
}
