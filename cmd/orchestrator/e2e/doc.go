// Package e2e holds the end-to-end tests of the orchestrator: they build the
// real binary, start it as a process on a free port (embedded store, and
// CouchDB with the couchdb build tag and COUCHDB_URL set) and drive the
// whole gRPC API as organizations' backends would.
//
// They are skipped with go test -short.
package e2e
