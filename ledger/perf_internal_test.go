package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// TestEmitEncoded checks encodeEvent against the plain encoding of the
// event, for an asset of every kind, with and without metadata.
func TestEmitEncoded(t *testing.T) {
	task := &protos.ComputeTask{Key: "t1", Owner: "o", ComputePlanKey: "p", Rank: 3, Status: protos.ComputeTaskStatus_STATUS_EXECUTING,
		Worker: "w", CreationDate: &timestamppb.Timestamp{Seconds: 5, Nanos: 6}, Metadata: map[string]string{"b": "2", "a": "1"},
		Inputs:  []*protos.ComputeTaskInput{{Identifier: "x", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: "k"}}},
		Outputs: map[string]*protos.ComputeTaskOutput{"m": {Transient: true}, "a": {}}, FunctionKey: "f"}
	sets := []func(*protos.Event){
		func(e *protos.Event) { e.Asset = &protos.Event_ComputeTask{ComputeTask: task} },
		func(e *protos.Event) { e.Asset = &protos.Event_ComputeTask{ComputeTask: &protos.ComputeTask{}} },
		func(e *protos.Event) {
			e.Asset = &protos.Event_Function{Function: &protos.Function{Key: "f", Inputs: map[string]*protos.FunctionInput{"z": {Multiple: true}, "y": {}}}}
		},
		func(e *protos.Event) {
			e.Asset = &protos.Event_ComputePlan{ComputePlan: &protos.ComputePlan{Key: "p", Tag: "t"}}
		},
		func(e *protos.Event) { e.Asset = &protos.Event_DataManager{DataManager: &protos.DataManager{Key: "d"}} },
		func(e *protos.Event) {
			e.Asset = &protos.Event_DataSample{DataSample: &protos.DataSample{Key: "s", DataManagerKeys: []string{"d"}}}
		},
		func(e *protos.Event) {
			e.Asset = &protos.Event_FailureReport{FailureReport: &protos.FailureReport{AssetKey: "t"}}
		},
		func(e *protos.Event) { e.Asset = &protos.Event_Model{Model: &protos.Model{Key: "m"}} },
		func(e *protos.Event) {
			e.Asset = &protos.Event_Organization{Organization: &protos.Organization{Id: "o"}}
		},
		func(e *protos.Event) {
			e.Asset = &protos.Event_Performance{Performance: &protos.Performance{PerformanceValue: 0.5}}
		},
		func(e *protos.Event) {
			e.Asset = &protos.Event_ComputeTaskOutputAsset{ComputeTaskOutputAsset: &protos.ComputeTaskOutputAsset{AssetKey: "a"}}
		},
		func(e *protos.Event) { e.Asset = &protos.Event_ProfilingStep{ProfilingStep: &protos.ProfilingStep{}} },
	}
	for i, set := range sets {
		for _, md := range []map[string]string{nil, {"reason": "User action"}, {"z": "1", "a": "2", "m": ""}} {
			ev := &protos.Event{Id: "id", AssetKey: "k", AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: protos.EventKind_EVENT_ASSET_UPDATED,
				Channel: "ch", Timestamp: &timestamppb.Timestamp{Seconds: 9}, Metadata: md}
			set(ev)
			want, err := Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			asset, err := Marshal(ev.ProtoReflect().Get(ev.ProtoReflect().WhichOneof(eventAssetOneof)).Message().Interface())
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeEvent(ev, asset)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("asset %d, metadata %v: encodeEvent = %x, want %x", i, md, got, want)
			}
			if again, _ := Marshal(ev); !bytes.Equal(again, want) {
				t.Errorf("asset %d: event changed by encodeEvent", i)
			}
		}
	}
	// An event without asset is encoded whole.
	ev := &protos.Event{Id: "id", Metadata: map[string]string{"a": "b"}}
	got, _ := encodeEvent(ev, []byte("ignored"))
	if want, _ := Marshal(ev); !bytes.Equal(got, want) {
		t.Errorf("no asset: encodeEvent = %x, want %x", got, want)
	}
	if !eventSpliceable {
		t.Error("Event no longer has a single oneof: encodeEvent always encodes whole events")
	}
}

// TestEventIDFormula pins eventID to its definition: a UUID version 8
// layout of the first 16 bytes of SHA-256(txID, 0, n in decimal).
func TestEventIDFormula(t *testing.T) {
	for _, c := range []struct {
		tx string
		n  int
	}{{"", 0}, {"tx1", 1}, {"3fa85f6457174562b3fc2c963f66afa63fa85f6457174562b3fc2c963f66afa6", 123456}, {string(make([]byte, 300)), 7}} {
		h := sha256.Sum256([]byte(c.tx + "\x00" + strconv.Itoa(c.n)))
		b := h[:16]
		b[6] = b[6]&0x0f | 0x80
		b[8] = b[8]&0x3f | 0x80
		x := hex.EncodeToString(b)
		want := x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
		if got := eventID(c.tx, c.n); got != want {
			t.Errorf("eventID(%q, %d) = %s, want %s", c.tx, c.n, got, want)
		}
	}
}

// TestCompositeKey checks compositeKey against the shim, keys and errors.
func TestCompositeKey(t *testing.T) {
	for _, c := range []struct {
		object string
		attrs  []string
	}{
		{"o", nil}, {"o", []string{""}}, {"computetask~plan~time", []string{"p", "0001", "k"}},
		{"o", []string{"é", "日本"}}, {"o", []string{"a\x00b"}}, {"o", []string{"\U0010FFFF"}}, {"o", []string{string([]byte{0xff})}},
		{"é", []string{"a"}}, {"o\x00", []string{"a"}}, {"", []string{"a", "b"}},
	} {
		got, gerr := compositeKey(c.object, c.attrs...)
		want, werr := shim.CreateCompositeKey(c.object, c.attrs)
		if got != want || (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Errorf("compositeKey(%q, %q) = %q, %v; want %q, %v", c.object, c.attrs, got, gerr, want, werr)
		}
	}
}

// TestSharedFunction checks that a function is decoded once per record,
// and again when its record changes.
func TestSharedFunction(t *testing.T) {
	put := func(l *Tx, f *protos.Function) {
		if err := Put(l, FunctionKind, f.GetKey(), f); err != nil {
			t.Fatal(err)
		}
	}
	l := New(&mapStub{m: map[string][]byte{}}, "")
	put(l, &protos.Function{Key: "shared-f1", Name: "one"})
	a, err := SharedFunction(l, "shared-f1")
	if err != nil || a.GetName() != "one" {
		t.Fatalf("SharedFunction = %v, %v", a, err)
	}
	l2 := New(l.Stub(), "")
	l2.values = l.values // another transaction reading the same record
	if b, _ := SharedFunction(l2, "shared-f1"); b != a {
		t.Error("same record decoded twice")
	}
	put(l, &protos.Function{Key: "shared-f1", Name: "two"})
	if b, _ := SharedFunction(l, "shared-f1"); b == a || b.GetName() != "two" || a.GetName() != "one" {
		t.Errorf("changed record: got %v, first %v", b, a)
	}
	if _, err := SharedFunction(l, "nope"); err == nil || err.Error() != `OE0002: function with key "nope" not found` {
		t.Errorf("unknown function: %v", err)
	}
	sk, _ := FunctionKind.Key("bad")
	_ = l.PutState(sk, []byte{0xff})
	_, want := GetFunction(l, "bad")
	if _, err := SharedFunction(l, "bad"); err == nil || err.Error() != want.Error() {
		t.Errorf("corrupt record: %v, want %v", err, want)
	}
}

// mapStub is a stub over a map, for reads only.
type mapStub struct {
	shim.ChaincodeStubInterface
	m     map[string][]byte
	reads int // keys read
	calls int // GetMultipleStates calls
}

func (s *mapStub) GetState(k string) ([]byte, error) { s.reads++; return s.m[k], nil }
func (s *mapStub) GetMultipleStates(keys ...string) ([][]byte, error) {
	s.calls++
	out := make([][]byte, len(keys))
	for i, k := range keys {
		s.reads++
		out[i] = s.m[k]
	}
	return out, nil
}

// TestGetMultipleStatesUncached checks that it sees the transaction's own
// writes and reads, and caches nothing.
func TestGetMultipleStatesUncached(t *testing.T) {
	st := &mapStub{m: map[string][]byte{"a": []byte("A"), "b": []byte("B"), "c": []byte("C")}}
	l := New(st, "")
	_ = l.PutState("b", []byte("own"))
	_ = l.DelState("c")
	if _, err := l.GetState("a"); err != nil {
		t.Fatal(err)
	}
	st.reads = 0
	for range 2 {
		vals, err := l.GetMultipleStatesUncached("a", "b", "c", "d", "e")
		if err != nil {
			t.Fatal(err)
		}
		if got := string(bytes.Join(vals, []byte(","))); got != "A,own,,," || vals[2] != nil {
			t.Errorf("GetMultipleStatesUncached = %q", vals)
		}
	}
	if st.reads != 4 {
		t.Errorf("stub reads = %d, want 4 (d and e, twice)", st.reads)
	}
	if _, ok := l.values["d"]; ok {
		t.Error("uncached read was cached")
	}
}

// TestPreload checks that preloaded records are read once, in one call,
// and that invalid keys are skipped.
func TestPreload(t *testing.T) {
	st := &mapStub{m: map[string][]byte{}}
	l := New(st, "")
	sk, _ := FunctionKind.Key("f1")
	st.m[sk], _ = Marshal(&protos.Function{Key: "f1", Name: "one"})
	if err := Preload(l, FunctionKind, []string{"f1", "f2", "bad\x00"}); err != nil {
		t.Fatal(err)
	}
	if st.reads != 2 || st.calls != 1 {
		t.Errorf("preload: %d reads in %d calls, want 2 in 1", st.reads, st.calls)
	}
	if f, err := SharedFunction(l, "f1"); err != nil || f.GetName() != "one" {
		t.Errorf("f1 = %v, %v", f, err)
	}
	if _, err := SharedFunction(l, "f2"); err == nil {
		t.Error("f2 found")
	}
	if st.reads != 2 {
		t.Errorf("reads after preload: %d, want 2", st.reads)
	}
}

// TestMergeSeesLaterWrites checks that a scan sees the writes made after
// an earlier scan grouped the writes by object type.
func TestMergeSeesLaterWrites(t *testing.T) {
	l := New(&scanStub{}, "")
	scan := func() []string {
		it, err := l.GetStateByPartialCompositeKey("o", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		var keys []string
		for it.HasNext() {
			kv, _ := it.Next()
			keys = append(keys, kv.GetKey())
		}
		return keys
	}
	k1, _ := compositeKey("o", "1")
	k2, _ := compositeKey("o", "2")
	k3, _ := compositeKey("p", "3")
	_ = l.PutState(k2, []byte("v"))
	_ = l.PutState(k3, []byte("v"))
	if got := scan(); len(got) != 1 || got[0] != k2 {
		t.Errorf("first scan = %q", got)
	}
	_ = l.PutState(k1, []byte("v"))
	_ = l.PutState(k2, []byte("w")) // rewritten: listed once
	if got := scan(); len(got) != 2 || got[0] != k1 || got[1] != k2 {
		t.Errorf("second scan = %q", got)
	}
	_ = l.DelState(k1)
	if got := scan(); len(got) != 1 || got[0] != k2 {
		t.Errorf("third scan = %q", got)
	}
}

// scanStub is an empty state.
type scanStub struct{ shim.ChaincodeStubInterface }

func (scanStub) GetStateByPartialCompositeKey(string, []string) (shim.StateQueryIteratorInterface, error) {
	return &sliceIter{}, nil
}
