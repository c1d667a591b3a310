package ledger_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/ledger"
)

func collect(t *testing.T, scan func() (shim.StateQueryIteratorInterface, error)) []string {
	t.Helper()
	it, err := scan()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kv.GetKey()+"="+string(kv.GetValue()))
	}
	return out
}

func TestTxReadsItsWrites(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := l.PutState(k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error {
		if v, _ := l.GetState("a"); string(v) != "va" {
			t.Errorf("committed a = %q", v)
		}
		if err := l.PutState("a", []byte("new")); err != nil {
			return err
		}
		if err := l.DelState("b"); err != nil {
			return err
		}
		if err := l.PutState("d", []byte("vd")); err != nil {
			return err
		}
		if err := l.PutState("c", nil); err != nil { // empty value deletes
			return err
		}
		if v, _ := l.GetState("a"); string(v) != "new" {
			t.Errorf("own write a = %q", v)
		}
		if v, _ := l.Stub().GetState("a"); string(v) != "va" {
			t.Errorf("raw stub sees %q before flush", v)
		}
		vals, err := l.GetMultipleStates("a", "b", "c", "d", "e")
		if err != nil {
			return err
		}
		if got := fmt.Sprintf("%q", vals); got != `["new" "" "" "vd" ""]` {
			t.Errorf("GetMultipleStates = %s", got)
		}
		if got := collect(t, func() (shim.StateQueryIteratorInterface, error) { return l.GetStateByRange("", "") }); !slices.Equal(got, []string{"a=new", "d=vd"}) {
			t.Errorf("range = %v", got)
		}
		if got := collect(t, func() (shim.StateQueryIteratorInterface, error) { return l.GetStateByRange("b", "e") }); !slices.Equal(got, []string{"d=vd"}) {
			t.Errorf("range [b,e) = %v", got)
		}
		return nil
	})
	h.evaluate(func(l *ledger.Tx) error {
		vals, err := l.GetMultipleStates("a", "b", "c", "d")
		if err != nil {
			return err
		}
		if got := fmt.Sprintf("%q", vals); got != `["new" "" "" "vd"]` {
			t.Errorf("committed = %s", got)
		}
		return nil
	})
}

func TestTxCompositeScanMerges(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		for _, k := range []string{"1", "3", "5"} {
			if err := l.PutIndex("idx", "p", k); err != nil {
				return err
			}
		}
		return l.PutIndex("idx", "q", "9")
	})
	h.submit(func(l *ledger.Tx) error {
		if err := l.DelIndex("idx", "p", "3"); err != nil {
			return err
		}
		if err := l.PutIndex("idx", "p", "4"); err != nil {
			return err
		}
		if err := l.MoveIndex("idx", []string{"p", "5"}, []string{"q", "5"}); err != nil {
			return err
		}
		if err := l.MoveIndex("idx", []string{"q", "9"}, []string{"q", "9"}); err != nil {
			return err
		}
		got, err := l.IndexLast("idx", "p")
		if err != nil {
			return err
		}
		if !slices.Equal(got, []string{"1", "4"}) {
			t.Errorf("index p = %v", got)
		}
		var first []string
		err = l.ScanIndex("idx", nil, func(attrs []string, _ []byte) error {
			first = attrs
			return ledger.ErrStop
		})
		if err != nil || !slices.Equal(first, []string{"p", "1"}) {
			t.Errorf("first entry %v, %v", first, err)
		}
		return nil
	})
	h.evaluate(func(l *ledger.Tx) error {
		got, err := l.IndexLast("idx", "q")
		if err != nil {
			return err
		}
		if !slices.Equal(got, []string{"5", "9"}) {
			t.Errorf("index q = %v", got)
		}
		return nil
	})
}

func TestTxFailureWritesNothing(t *testing.T) {
	h := newHarness(t)
	err := h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		if err := l.PutState("a", []byte("x")); err != nil {
			return err
		}
		return fmt.Errorf("boom")
	})
	if err == nil {
		t.Fatal("no error")
	}
	h.evaluate(func(l *ledger.Tx) error {
		if v, _ := l.GetState("a"); v != nil {
			t.Errorf("a = %q after a failed transaction", v)
		}
		return nil
	})
}

func TestTxCallerAndNow(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		msp, err := l.Caller()
		if err != nil || msp != "Org1MSP" {
			t.Errorf("caller %q, %v", msp, err)
		}
		ts, err := l.Now()
		if err != nil || !ts.AsTime().Equal(t0) {
			t.Errorf("now %v, %v", ts, err)
		}
		ts.Seconds = 0 // a copy: the next call is unaffected
		if ts2, _ := l.Now(); !ts2.AsTime().Equal(t0) {
			t.Errorf("now changed to %v", ts2)
		}
		if _, err := l.GetQueryResult("{}"); err == nil {
			t.Error("rich query allowed")
		}
		if _, _, err := l.GetQueryResultWithPagination("{}", 1, ""); err == nil {
			t.Error("rich query allowed")
		}
		if err := l.PutState("", []byte("x")); err == nil {
			t.Error("empty key accepted")
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error {
		l2 := ledger.New(l.Stub(), "Given")
		if msp, _ := l2.Caller(); msp != "Given" {
			t.Errorf("caller %q, want the given one", msp)
		}
		return nil
	})
}
