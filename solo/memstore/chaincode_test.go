package memstore_test

import (
	"testing"

	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
)

func TestChaincode(t *testing.T) {
	solotest.Run(t, func(*testing.T) store.Opener { return memstore.Opener() })
}
