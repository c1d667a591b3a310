package memstore_test

import (
	"testing"

	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
	"github.com/fedchain/orchestrator/solo/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Opener { return memstore.Opener() })
}

func BenchmarkCommit(b *testing.B) {
	solotest.Bench(b, func(*testing.B) store.Opener { return memstore.Opener() })
}
