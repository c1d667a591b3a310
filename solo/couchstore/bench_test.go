//go:build couchdb

package couchstore

import (
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
