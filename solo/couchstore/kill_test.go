//go:build couchdb

package couchstore

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

const killChildEnv = "COUCHSTORE_KILL_CHILD_PREFIX"

// TestKilledMidCommit kills (SIGKILL) a process between its journal write
// and the application, then opens the channel again: the batch is there,
// whole.
func TestKilledMidCommit(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("child mode")
	}
	o := newOpener(t, newPrefix())
	s := openStore(t, o, "kill")
	commit(t, s, putBatch("init", "k", "v0", "gone", "g"))
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+o.prefix)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child should die by SIGKILL, got %v:\n%s", err, out)
	}
	restarted := openStore(t, anotherProcess(t, o), "kill")
	checkCrashBatchApplied(t, restarted)
}

// TestKillChild is the child of TestKilledMidCommit.
func TestKillChild(t *testing.T) {
	prefix := os.Getenv(killChildEnv)
	if prefix == "" {
		t.Skip("run by TestKilledMidCommit")
	}
	o, err := NewOpener(serverURL(t), WithDBPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	s, err := o.OpenStore(context.Background(), "kill")
	if err != nil {
		t.Fatal(err)
	}
	s.afterJournal = func(uint64) error {
		return syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	err = s.Commit(context.Background(), crashBatch())
	t.Fatalf("still alive after the journal write: %v", err)
}
