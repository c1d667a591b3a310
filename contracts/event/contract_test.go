package event_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const queryEvents = "orchestrator.event:QueryEvents"

// scenario runs a few transactions and returns every event they emitted,
// in emission order.
func scenario(t *testing.T) (*cct.Net, []*protos.Event) {
	n := cct.New(t, solotest.Start)
	var all []*protos.Event
	step := func(fn func()) {
		fn()
		all = append(all, n.LastEvents()...)
	}
	step(func() { n.RegisterOrgs("Org1MSP") })
	step(func() { n.RegisterOrgs("Org2MSP") })
	step(func() { n.RegisterFunction("Org1MSP", cct.Key(1)) })
	step(func() { n.RegisterDataManager("Org1MSP", cct.Key(2)) })
	step(func() { n.RegisterDataSamples("Org1MSP", cct.Key(2), cct.Key(13), cct.Key(11), cct.Key(12)) })
	step(func() {
		n.MustSubmit("Org1MSP", "orchestrator.datamanager:UpdateDataManager", &protos.UpdateDataManagerParam{Key: cct.Key(2), Name: "renamed"}, nil)
	})
	step(func() {
		n.MustSubmit("Org1MSP", "orchestrator.function:ApplyFunctionAction",
			&protos.ApplyFunctionActionParam{FunctionKey: cct.Key(1), Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING}, nil)
	})
	if len(all) != 9 {
		t.Fatalf("scenario emitted %d events, want 9", len(all))
	}
	return n, all
}

func at(sec int) *timestamppb.Timestamp {
	return timestamppb.New(cct.Start.Add(time.Duration(sec) * time.Second))
}

func TestQueryEvents(t *testing.T) {
	n, all := scenario(t)
	ids := func(evs []*protos.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.GetId())
		}
		return out
	}
	where := func(keep func(*protos.Event) bool) []*protos.Event {
		var out []*protos.Event
		for _, e := range all {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		filter *protos.EventQueryFilter
		want   []*protos.Event
	}{
		{name: "all", want: all},
		{name: "asset kind", filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_DATA_SAMPLE},
			want: where(func(e *protos.Event) bool { return e.GetAssetKind() == protos.AssetKind_ASSET_DATA_SAMPLE })},
		{name: "asset key", filter: &protos.EventQueryFilter{AssetKey: cct.Key(2)},
			want: where(func(e *protos.Event) bool { return e.GetAssetKey() == cct.Key(2) })},
		{name: "event kind", filter: &protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_UPDATED},
			want: where(func(e *protos.Event) bool { return e.GetEventKind() == protos.EventKind_EVENT_ASSET_UPDATED })},
		{name: "asset kind and event kind", filter: &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_FUNCTION, EventKind: protos.EventKind_EVENT_ASSET_CREATED},
			want: all[2:3]},
		{name: "asset key and wrong kind", filter: &protos.EventQueryFilter{AssetKey: cct.Key(2), AssetKind: protos.AssetKind_ASSET_FUNCTION}},
		{name: "metadata", filter: &protos.EventQueryFilter{Metadata: map[string]string{"reason": "User action"}}, want: all[8:]},
		{name: "metadata mismatch", filter: &protos.EventQueryFilter{Metadata: map[string]string{"reason": "other"}}},
		{name: "time window", filter: &protos.EventQueryFilter{Start: at(3), End: at(4)}, want: all[3:7]},
		{name: "from", filter: &protos.EventQueryFilter{Start: at(5)}, want: all[7:]},
		{name: "until", filter: &protos.EventQueryFilter{End: at(1)}, want: all[:2]},
		{name: "window and kind", filter: &protos.EventQueryFilter{Start: at(0), End: at(4), AssetKind: protos.AssetKind_ASSET_ORGANIZATION}, want: all[:2]},
		{name: "unknown key", filter: &protos.EventQueryFilter{AssetKey: cct.Key(99)}},
	}
	for _, tt := range tests {
		for _, sort := range []protos.SortOrder{protos.SortOrder(0), protos.SortOrder_ASCENDING, protos.SortOrder_DESCENDING} {
			for _, size := range []uint32{0, 1, 3} {
				want := ids(tt.want)
				if sort == protos.SortOrder_DESCENDING {
					slices.Reverse(want)
				}
				var got []*protos.Event
				token := ""
				for pages := 0; ; pages++ {
					if pages > 20 {
						t.Fatalf("%s: too many pages", tt.name)
					}
					res := new(protos.QueryEventsResponse)
					n.MustEvaluate("Org2MSP", queryEvents, &protos.QueryEventsParam{Filter: tt.filter, Sort: sort, PageSize: size, PageToken: token}, res)
					if size > 0 && len(res.GetEvents()) > int(size) {
						t.Fatalf("%s: page of %d, size %d", tt.name, len(res.GetEvents()), size)
					}
					got = append(got, res.GetEvents()...)
					if token = res.GetNextPageToken(); token == "" {
						break
					}
				}
				if !slices.Equal(ids(got), want) {
					t.Errorf("%s, %v, size %d: got %v, want %v", tt.name, sort, size, ids(got), want)
					continue
				}
				for i, e := range got {
					if i < len(tt.want) && sort != protos.SortOrder_DESCENDING && !proto.Equal(e, tt.want[i]) {
						t.Errorf("%s: event %d is %v, published %v", tt.name, i, e, tt.want[i])
					}
				}
			}
		}
	}
}

func TestEventIDsAreUnique(t *testing.T) {
	_, all := scenario(t)
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e.GetId()] || len(e.GetId()) != 36 {
			t.Errorf("event id %q duplicate or malformed", e.GetId())
		}
		seen[e.GetId()] = true
	}
}

func TestQueryEventsBadToken(t *testing.T) {
	n, _ := scenario(t)
	for _, token := range []string{"***", "YWJj"} {
		err := n.Evaluate("Org1MSP", queryEvents, &protos.QueryEventsParam{PageToken: token}, nil)
		if cct.KindOf(err) != orcerr.BadRequest {
			t.Errorf("token %q: %v", token, err)
		}
	}
}
