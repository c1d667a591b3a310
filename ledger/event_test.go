package ledger_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
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

// TestEventWalks stores transactions of up to 60 events at times that
// repeat, jump by up to days, or lie after the query's, and checks that
// every walk (ascending or descending, filtered by kind, asset, metadata
// or time window, by pages of any size) lists exactly the events it
// should, each once, in the order of the full ascending walk, which is by
// time and keeps each transaction's events together in emission order.
func TestEventWalks(t *testing.T) {
	h := newHarness(t)
	rng := rand.New(rand.NewPCG(7, 9))
	assets := []string{"00000000-0000-4000-8000-000000000001", "ffffffff-0000-4000-8000-000000000002", "MyOrg1MSP", "t1", "00000000-0000-4000-8000-000000000003"}
	type stored struct {
		id, asset string
		ak        protos.AssetKind
		ek        protos.EventKind
		at        time.Time
		md        string
	}
	var all []stored
	at := t0
	for tx := range 90 {
		switch r := rng.IntN(10); {
		case r < 3: // same time as the previous transaction
		case r < 7:
			at = at.Add(time.Duration(rng.Int64N(int64(3 * time.Second))))
		case r < 9:
			at = at.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		default:
			at = at.Add(time.Duration(rng.Int64N(1000)))
		}
		h.now = at.Add(-time.Second)
		n := 1 + rng.IntN(4)
		if rng.IntN(6) == 0 {
			n = 1 + rng.IntN(60)
		}
		h.submit(func(l *ledger.Tx) error {
			for i := range n {
				s := stored{id: ledger.EventID(l.GetTxID(), i), asset: assets[rng.IntN(len(assets))], at: at,
					ak: []protos.AssetKind{protos.AssetKind_ASSET_MODEL, protos.AssetKind_ASSET_DATA_SAMPLE}[rng.IntN(2)],
					ek: []protos.EventKind{protos.EventKind_EVENT_ASSET_CREATED, protos.EventKind_EVENT_ASSET_UPDATED}[rng.IntN(2)],
					md: fmt.Sprint(tx % 3)}
				all = append(all, s)
				if err := l.EmitAsset(s.ek, s.ak, s.asset, func(e *protos.Event) { e.Metadata = map[string]string{"m": s.md} }); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// Some queries run before the last transactions' time.
	queryAt := []time.Time{at.Add(time.Hour), at.Add(-10 * time.Second)}
	walk := func(p *protos.QueryEventsParam, when time.Time) []string {
		t.Helper()
		var ids []string
		p = proto.Clone(p).(*protos.QueryEventsParam)
		for pages := 0; ; pages++ {
			if pages > len(all)+2 {
				t.Fatalf("%v: no end after %d pages", p, pages)
			}
			h.now = when.Add(-time.Second)
			var res *protos.QueryEventsResponse
			h.evaluate(func(l *ledger.Tx) error {
				var err error
				res, err = l.QueryEvents(p)
				if err == nil {
					checkEncoded(t, l, p, res)
				}
				return err
			})
			if size := int(p.GetPageSize()); size > 0 && len(res.GetEvents()) > size {
				t.Fatalf("%v: a page of %d events", p, len(res.GetEvents()))
			}
			for _, e := range res.GetEvents() {
				ids = append(ids, e.GetId())
			}
			if res.GetNextPageToken() == "" {
				return ids
			}
			p.PageToken = res.GetNextPageToken()
		}
	}
	full := walk(&protos.QueryEventsParam{PageSize: 10000}, queryAt[0])
	byID := map[string]stored{}
	for _, s := range all {
		byID[s.id] = s
	}
	if len(full) != len(all) {
		t.Fatalf("the full walk found %d events, %d were stored", len(full), len(all))
	}
	pos := map[string]int{}
	for i, id := range full {
		s, ok := byID[id]
		if _, twice := pos[id]; !ok || twice {
			t.Fatalf("event %s of the walk: stored %v, twice %v", id, ok, twice)
		}
		pos[id] = i
		if i > 0 && s.at.Before(byID[full[i-1]].at) {
			t.Fatalf("event %d at %v after one at %v", i, s.at, byID[full[i-1]].at)
		}
	}
	// Each transaction's events are together and in order: all is in
	// emission order, so its events of one transaction are consecutive.
	for i := 1; i < len(all); i++ {
		if all[i].at.Equal(all[i-1].at) && pos[all[i].id] == pos[all[i-1].id]+1 {
			continue
		}
		if pos[all[i].id] <= pos[all[i-1].id] && !all[i].at.Equal(all[i-1].at) {
			t.Fatalf("event %s before %s", all[i].id, all[i-1].id)
		}
	}
	times := []time.Time{all[0].at, all[len(all)/3].at, all[len(all)/2].at, all[len(all)-1].at}
	filters := []*protos.EventQueryFilter{
		nil,
		{AssetKind: protos.AssetKind_ASSET_MODEL},
		{EventKind: protos.EventKind_EVENT_ASSET_UPDATED, AssetKind: protos.AssetKind_ASSET_DATA_SAMPLE},
		{Metadata: map[string]string{"m": "1"}},
		{AssetKey: assets[0]},
		{AssetKey: assets[2], EventKind: protos.EventKind_EVENT_ASSET_CREATED},
		{AssetKey: "nowhere"},
		{Start: timestamppb.New(times[1]), End: timestamppb.New(times[2])},
		{Start: timestamppb.New(times[2])},
		{End: timestamppb.New(times[1])},
		{AssetKey: assets[3], Start: timestamppb.New(times[1]), End: timestamppb.New(times[3])},
	}
	for _, f := range filters {
		var want []string
		for _, id := range full {
			s := byID[id]
			if f.GetAssetKey() != "" && s.asset != f.GetAssetKey() ||
				f.GetAssetKind() != 0 && s.ak != f.GetAssetKind() ||
				f.GetEventKind() != 0 && s.ek != f.GetEventKind() ||
				f.GetMetadata() != nil && s.md != f.GetMetadata()["m"] ||
				f.GetStart() != nil && s.at.Before(f.GetStart().AsTime()) ||
				f.GetEnd() != nil && s.at.After(f.GetEnd().AsTime()) {
				continue
			}
			want = append(want, id)
		}
		back := slices.Clone(want)
		slices.Reverse(back)
		for _, size := range []uint32{1, 3, 17, 100} {
			for _, when := range queryAt {
				if got := walk(&protos.QueryEventsParam{PageSize: size, Filter: f}, when); !slices.Equal(got, want) {
					t.Errorf("filter %v by %d: %d events, want %d (first %v, want %v)", f, size, len(got), len(want), head(got), head(want))
				}
				if got := walk(&protos.QueryEventsParam{PageSize: size, Filter: f, Sort: protos.SortOrder_DESCENDING}, when); !slices.Equal(got, back) {
					t.Errorf("filter %v by %d descending at %v: %d events, want %d (first %v, want %v)", f, size, when, len(got), len(back), head(got), head(back))
				}
			}
		}
	}
}

func head(ids []string) []string { return ids[:min(3, len(ids))] }

// TestFormerLayoutFails checks that a channel holding state of the former
// layout makes QueryEvents and a GetTask that finds nothing fail, instead
// of answering as if the channel were empty.
func TestFormerLayoutFails(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		return l.EmitAsset(protos.EventKind_EVENT_ASSET_CREATED, protos.AssetKind_ASSET_MODEL, "m", nil)
	})
	h.evaluate(func(l *ledger.Tx) error {
		if _, err := ledger.GetComputeTaskRaw(l, "t1"); orcerr.KindOf(err) != orcerr.NotFound {
			t.Errorf("GetComputeTaskRaw(t1) = %v, want not found", err)
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error {
		return l.PutState("event\x00all\x00a\x0001767323045001000000\x00"+strings.Repeat("0", 64)+"\x00000000\x00001\x00001", []byte{0x0a, 0x01, 'x'})
	})
	for name, p := range map[string]*protos.QueryEventsParam{
		"first page": {}, "descending": {Sort: protos.SortOrder_DESCENDING}, "by asset": {Filter: &protos.EventQueryFilter{AssetKey: "m"}},
	} {
		err := h.run(false, "Org1MSP", func(l *ledger.Tx) error { _, err := l.QueryEvents(p); return err })
		if err == nil || !strings.Contains(err.Error(), "older version") {
			t.Errorf("QueryEvents %s on the former layout = %v", name, err)
		}
	}
	err := h.run(false, "Org1MSP", func(l *ledger.Tx) error { _, err := ledger.GetComputeTaskRaw(l, "t1"); return err })
	if err == nil || !strings.Contains(err.Error(), "older version") {
		t.Errorf("GetComputeTaskRaw on the former layout = %v", err)
	}
}

// checkEncoded checks that QueryEventsEncoded(p) is the deterministic
// encoding of res, QueryEvents' answer to p.
func checkEncoded(t *testing.T, l *ledger.Tx, p *protos.QueryEventsParam, res *protos.QueryEventsResponse) {
	t.Helper()
	raw, err := l.QueryEventsEncoded(p)
	if err != nil {
		t.Fatalf("QueryEventsEncoded(%v): %v", p, err)
	}
	want, err := ledger.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		got := new(protos.QueryEventsResponse)
		_ = proto.Unmarshal(raw, got)
		t.Errorf("QueryEventsEncoded(%v) = %x\n(%v)\nwant %x\n(%v)", p, raw, got, want, res)
	}
}

// TestEventWalksFindNothing: a walk of a log with no entry in its window
// answers an empty page, in both orders (a fresh channel is what a client
// meets first: the descending walk must not take the empty log for an
// error).
func TestEventWalksFindNothing(t *testing.T) {
	h := newHarness(t)
	query := func(p *protos.QueryEventsParam) {
		t.Helper()
		h.evaluate(func(l *ledger.Tx) error {
			res, err := l.QueryEvents(p)
			if err != nil {
				t.Errorf("%v: %v", p, err)
				return nil
			}
			if len(res.GetEvents()) != 0 || res.GetNextPageToken() != "" {
				t.Errorf("%v: %v, want an empty last page", p, res)
			}
			return nil
		})
	}
	for _, sort := range []protos.SortOrder{protos.SortOrder_ASCENDING, protos.SortOrder_DESCENDING} {
		query(&protos.QueryEventsParam{PageSize: 1, Sort: sort})
		query(&protos.QueryEventsParam{PageSize: 10, Sort: sort, Filter: &protos.EventQueryFilter{AssetKey: "MyOrg1MSP"}})
	}
	h.now = t0
	h.submit(func(l *ledger.Tx) error {
		return l.EmitAsset(protos.EventKind_EVENT_ASSET_CREATED, protos.AssetKind_ASSET_ORGANIZATION, "MyOrg1MSP", nil)
	})
	later := &protos.EventQueryFilter{Start: timestamppb.New(t0.Add(time.Hour))}
	for _, sort := range []protos.SortOrder{protos.SortOrder_ASCENDING, protos.SortOrder_DESCENDING} {
		query(&protos.QueryEventsParam{PageSize: 1, Sort: sort, Filter: later})
		query(&protos.QueryEventsParam{PageSize: 1, Sort: sort, Filter: &protos.EventQueryFilter{AssetKey: "MyOrg2MSP"}})
	}
}
