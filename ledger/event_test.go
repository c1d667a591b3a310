package ledger_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
)

func TestEvents(t *testing.T) {
	h := newHarness(t)
	var txIDs []string
	for tx := range 3 {
		h.submit(func(l *ledger.Tx) error {
			txIDs = append(txIDs, l.GetTxID())
			for i := range 3 {
				kind := protos.AssetKind_ASSET_DATA_SAMPLE
				if i == 0 {
					kind = protos.AssetKind_ASSET_DATA_MANAGER
				}
				err := l.EmitAsset(protos.EventKind_EVENT_ASSET_CREATED, kind, string(rune('a'+i)), func(e *protos.Event) {
					e.Metadata = map[string]string{"tx": string(rune('0' + tx))}
				})
				if err != nil {
					return err
				}
			}
			if len(l.Events()) != 3 {
				t.Errorf("%d events buffered", len(l.Events()))
			}
			return nil
		})
		if h.ev == nil || h.ev.Name != eventwire.ChaincodeEventName {
			t.Fatalf("chaincode event %v", h.ev)
		}
		r := bytes.NewReader(h.ev.Payload)
		for i := 0; r.Len() > 0; i++ {
			ev := new(protos.Event)
			if err := protodelim.UnmarshalFrom(r, ev); err != nil {
				t.Fatal(err)
			}
			if ev.GetId() != ledger.EventID(txIDs[tx], i) || ev.GetChannel() != "ch" || ev.GetAssetKey() != string(rune('a'+i)) ||
				!ev.GetTimestamp().AsTime().Equal(h.now) {
				t.Errorf("tx %d event %d: %v", tx, i, ev)
			}
		}
	}
	h.submit(func(l *ledger.Tx) error { return nil })
	if h.ev != nil {
		t.Errorf("a transaction without events set %v", h.ev)
	}
	query := func(p *protos.QueryEventsParam) []string {
		var out []string
		h.evaluate(func(l *ledger.Tx) error {
			for {
				res, err := l.QueryEvents(p)
				if err != nil {
					return err
				}
				for _, e := range res.GetEvents() {
					out = append(out, e.GetMetadata()["tx"]+e.GetAssetKey())
				}
				if res.GetNextPageToken() == "" {
					return nil
				}
				p.PageToken = res.GetNextPageToken()
			}
		})
		return out
	}
	at := func(sec int) *timestamppb.Timestamp { return timestamppb.New(t0.Add(time.Duration(sec) * time.Second)) }
	tests := []struct {
		name string
		p    *protos.QueryEventsParam
		want []string
	}{
		{"all", &protos.QueryEventsParam{}, []string{"0a", "0b", "0c", "1a", "1b", "1c", "2a", "2b", "2c"}},
		{"desc by 2", &protos.QueryEventsParam{PageSize: 2, Sort: protos.SortOrder_DESCENDING}, []string{"2c", "2b", "2a", "1c", "1b", "1a", "0c", "0b", "0a"}},
		{"key b", &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: "b"}}, []string{"0b", "1b", "2b"}},
		{"key b desc", &protos.QueryEventsParam{Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKey: "b"}}, []string{"2b", "1b", "0b"}},
		{"key b desc by 1", &protos.QueryEventsParam{PageSize: 1, Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKey: "b"}}, []string{"2b", "1b", "0b"}},
		{"key b desc by 2", &protos.QueryEventsParam{PageSize: 2, Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKey: "b"}}, []string{"2b", "1b", "0b"}},
		{"key b desc window by 1", &protos.QueryEventsParam{PageSize: 1, Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKey: "b", Start: at(1), End: at(2)}}, []string{"2b", "1b"}},
		{"key a desc created", &protos.QueryEventsParam{Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKey: "a", EventKind: protos.EventKind_EVENT_ASSET_CREATED, Metadata: map[string]string{"tx": "1"}}}, []string{"1a"}},
		{"manager", &protos.QueryEventsParam{PageSize: 1, Filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_DATA_MANAGER}}, []string{"0a", "1a", "2a"}},
		{"metadata", &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{Metadata: map[string]string{"tx": "1"}}}, []string{"1a", "1b", "1c"}},
		{"window", &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{Start: at(1), End: at(1)}}, []string{"1a", "1b", "1c"}},
		{"window desc", &protos.QueryEventsParam{Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{Start: at(1), End: at(2), AssetKey: "c"}}, []string{"2c", "1c"}},
		{"updated", &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_UPDATED}}, nil},
		{"manager desc", &protos.QueryEventsParam{PageSize: 2, Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_DATA_MANAGER}}, []string{"2a", "1a", "0a"}},
		{"samples created by 1", &protos.QueryEventsParam{PageSize: 1, Filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_DATA_SAMPLE, EventKind: protos.EventKind_EVENT_ASSET_CREATED}}, []string{"0b", "0c", "1b", "1c", "2b", "2c"}},
		{"created desc window", &protos.QueryEventsParam{Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_CREATED, Start: at(0), End: at(1)}}, []string{"1c", "1b", "1a", "0c", "0b", "0a"}},
		{"key and kind", &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: "a", AssetKind: protos.AssetKind_ASSET_DATA_MANAGER}}, []string{"0a", "1a", "2a"}},
		{"key and other kind", &protos.QueryEventsParam{Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{AssetKey: "b", AssetKind: protos.AssetKind_ASSET_DATA_MANAGER}}, nil},
		{"updated desc", &protos.QueryEventsParam{Sort: protos.SortOrder_DESCENDING, Filter: &protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_UPDATED}}, nil},
	}
	for _, tt := range tests {
		if got := query(tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEventID(t *testing.T) {
	a, b, c := ledger.EventID("tx1", 0), ledger.EventID("tx1", 1), ledger.EventID("tx2", 0)
	if a == b || a == c || a != ledger.EventID("tx1", 0) {
		t.Errorf("ids %s %s %s", a, b, c)
	}
	if len(a) != 36 || a[14] != '8' || a[8] != '-' || a[23] != '-' {
		t.Errorf("id %s is not a version 8 UUID", a)
	}
}

// TestChaincodeEventIsDeterministic checks that the published payload is
// the deterministic encoding: Go randomizes map order, and endorsers must
// agree on every byte.
func TestChaincodeEventIsDeterministic(t *testing.T) {
	h := newHarness(t)
	meta := map[string]string{}
	for i := range 30 {
		meta[string(rune('a'+i%26))+string(rune('0'+i/26))] = "v"
	}
	var emitted []*protos.Event
	h.submit(func(l *ledger.Tx) error {
		for range 3 {
			if err := l.Emit(&protos.Event{AssetKey: "k", Metadata: meta}); err != nil {
				return err
			}
		}
		emitted = l.Events()
		return nil
	})
	var want []byte
	opts := protodelim.MarshalOptions{MarshalOptions: proto.MarshalOptions{Deterministic: true}}
	for _, ev := range emitted {
		var buf bytes.Buffer
		if _, err := opts.MarshalTo(&buf, ev); err != nil {
			t.Fatal(err)
		}
		want = append(want, buf.Bytes()...)
	}
	if !bytes.Equal(h.ev.Payload, want) {
		t.Fatal("chaincode event payload is not the deterministic encoding")
	}
}

// TestEmitSnapshots checks that an event is what the asset was at Emit
// time, even if the asset changes later in the transaction.
func TestEmitSnapshots(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		f := &protos.Function{Key: "f", Status: protos.FunctionStatus_FUNCTION_STATUS_WAITING}
		for _, st := range []protos.FunctionStatus{protos.FunctionStatus_FUNCTION_STATUS_BUILDING, protos.FunctionStatus_FUNCTION_STATUS_READY} {
			if err := l.Emit(&protos.Event{AssetKey: "f", Asset: &protos.Event_Function{Function: f}}); err != nil {
				return err
			}
			f.Status = st
		}
		return nil
	})
	want := []protos.FunctionStatus{protos.FunctionStatus_FUNCTION_STATUS_WAITING, protos.FunctionStatus_FUNCTION_STATUS_BUILDING}
	r := bytes.NewReader(h.ev.Payload)
	for i := 0; r.Len() > 0; i++ {
		ev := new(protos.Event)
		if err := protodelim.UnmarshalFrom(r, ev); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || ev.GetFunction().GetStatus() != want[i] {
			t.Errorf("published event %d: %v", i, ev.GetFunction())
		}
	}
	h.evaluate(func(l *ledger.Tx) error {
		res, err := l.QueryEvents(&protos.QueryEventsParam{})
		if err != nil {
			return err
		}
		for i, ev := range res.GetEvents() {
			if i >= len(want) || ev.GetFunction().GetStatus() != want[i] {
				t.Errorf("stored event %d: %v", i, ev.GetFunction())
			}
		}
		return nil
	})
}

func TestDecodeEventsRefusesMalformedPayloads(t *testing.T) {
	good := protowire.AppendBytes(nil, []byte{0x0a, 0x01, 'x'}) // one event, id "x"
	evs, err := eventwire.Decode(good)
	if err != nil || len(evs) != 1 || evs[0].GetId() != "x" {
		t.Fatalf("DecodeEvents(good) = %v, %v", evs, err)
	}
	for name, p := range map[string][]byte{
		"truncated message": good[:len(good)-1],
		"bad length":        {0xff},
		"bad message":       protowire.AppendBytes(nil, []byte{0x0a, 0x05}),
	} {
		if _, err := eventwire.Decode(p); err == nil {
			t.Errorf("%s: DecodeEvents succeeded", name)
		}
	}
}
