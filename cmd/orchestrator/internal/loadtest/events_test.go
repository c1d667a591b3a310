package loadtest

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

func TestMalformedEvents(t *testing.T) {
	good := func() *protos.Event {
		return &protos.Event{
			Id: "e1", AssetKey: "t1", AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK,
			EventKind: protos.EventKind_EVENT_ASSET_UPDATED, Channel: "mychannel", Timestamp: timestamppb.Now(),
			Asset: &protos.Event_ComputeTask{ComputeTask: &protos.ComputeTask{Key: "t1"}},
		}
	}
	tests := []struct {
		name   string
		change func(*protos.Event)
		want   string // "" for a well-formed event
	}{
		{"well formed", func(*protos.Event) {}, ""},
		{"output asset keyed by its task", func(e *protos.Event) {
			e.AssetKind = protos.AssetKind_ASSET_COMPUTE_TASK_OUTPUT_ASSET
			e.Asset = &protos.Event_ComputeTaskOutputAsset{ComputeTaskOutputAsset: &protos.ComputeTaskOutputAsset{ComputeTaskKey: "t1", AssetKey: "m1"}}
		}, ""},
		{"performance not compared", func(e *protos.Event) { e.AssetKind, e.Asset = protos.AssetKind_ASSET_PERFORMANCE, nil }, ""},
		{"no id", func(e *protos.Event) { e.Id = "" }, "no id or no timestamp"},
		{"no timestamp", func(e *protos.Event) { e.Timestamp = nil }, "no id or no timestamp"},
		{"no kind", func(e *protos.Event) { e.EventKind = protos.EventKind_EVENT_UNKNOWN }, "no event kind"},
		{"other channel", func(e *protos.Event) { e.Channel = "" }, `channel "", want "mychannel"`},
		{"no asset key", func(e *protos.Event) { e.AssetKey = "" }, "no asset key"},
		{"asset of another key", func(e *protos.Event) { e.GetComputeTask().Key = "t2" }, `asset key "t1", its ASSET_COMPUTE_TASK asset has key "t2"`},
		{"no asset", func(e *protos.Event) { e.Asset = nil }, `its ASSET_COMPUTE_TASK asset has key ""`},
		{"model of another key", func(e *protos.Event) {
			e.AssetKind = protos.AssetKind_ASSET_MODEL
			e.Asset = &protos.Event_Model{Model: &protos.Model{Key: "m1"}}
		}, `its ASSET_MODEL asset has key "m1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := good()
			tt.change(ev)
			var m malformed
			m.check(ev, "mychannel")
			m.check(good(), "mychannel")
			switch {
			case tt.want == "" && m.n != 0:
				t.Errorf("found malformed: %s", m.first)
			case tt.want != "" && (m.n != 1 || !strings.Contains(m.first, tt.want)):
				t.Errorf("%d malformed, first %q; want 1 with %q", m.n, m.first, tt.want)
			}
		})
	}
}
