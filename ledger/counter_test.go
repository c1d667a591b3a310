package ledger_test

import (
	"testing"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

func TestCounters(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		for _, d := range []int64{3, 4, -2} {
			if _, err := l.AddCount(d, "tasks", "plan1", "DONE"); err != nil {
				return err
			}
		}
		if v, err := l.AddCount(-1, "tasks", "plan2"); v != -1 || err != nil {
			t.Errorf("negative counter %d, %v", v, err)
		}
		if v, err := l.AddCount(1, "tasks", "plan2"); v != 0 || err != nil {
			t.Errorf("counter back to zero: %d, %v", v, err)
		}
		return nil
	})
	h.evaluate(func(l *ledger.Tx) error {
		if v, err := l.Count("tasks", "plan1", "DONE"); v != 5 || err != nil {
			t.Errorf("count %d, %v; want 5", v, err)
		}
		if v, err := l.Count("tasks", "plan2"); v != 0 || err != nil {
			t.Errorf("count %d, %v; want 0", v, err)
		}
		if v, _ := l.GetState("\x00counter~tasks\x00plan2\x00"); v != nil {
			t.Errorf("zero counter kept: %q", v)
		}
		if _, err := l.Count("tasks", "\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad attribute: %v", err)
		}
		if _, err := l.AddCount(1, "tasks", "\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad attribute: %v", err)
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error { return l.PutState("\x00counter~bad\x00", []byte{0x80}) })
	h.evaluate(func(l *ledger.Tx) error {
		if _, err := l.Count("bad"); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("corrupt counter: %v", err)
		}
		return nil
	})
}
