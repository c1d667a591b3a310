//go:build couchdb

package e2e

import "testing"

// TestCrashCyclesCouchDB is TestCrashCycles on CouchDB: a kill -9 between
// the journal write and its application must leave a commit that the next
// process completes, never half of it.
func TestCrashCyclesCouchDB(t *testing.T) {
	testCrashCycles(t, *crashCycles, couchStore(t)...)
}
