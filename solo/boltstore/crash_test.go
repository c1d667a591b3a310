package boltstore_test

import (
	"testing"

	"github.com/fedchain/orchestrator/solo/boltstore"
	"github.com/fedchain/orchestrator/solo/solotest"
	"github.com/fedchain/orchestrator/solo/store"
)

func openDir(dir string) store.Opener { return boltstore.Opener(dir) }

func TestMain(m *testing.M) { solotest.CrashMain(m, openDir) }

// TestCrash: every acknowledged commit survives a SIGKILL, none is partial.
func TestCrash(t *testing.T) { solotest.Crash(t, openDir) }
