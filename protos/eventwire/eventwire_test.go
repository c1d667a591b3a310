package eventwire_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
)

func TestID(t *testing.T) {
	full, err := proto.Marshal(&protos.Event{Id: "e1", AssetKey: "k", Timestamp: timestamppb.Now(),
		Asset: &protos.Event_Organization{Organization: &protos.Organization{Id: "o"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The id after other fields: wire order is not field order.
	tail, _ := proto.Marshal(&protos.Event{AssetKey: "k"})
	head, _ := proto.Marshal(&protos.Event{Id: "e2"})
	late := append(append([]byte(nil), tail...), head...)
	for _, tt := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"full event", full, "e1"},
		{"id last", late, "e2"},
		{"no id", tail, ""},
		{"empty", nil, ""},
		{"truncated", full[:3], ""},
		{"garbage", []byte{0xff, 0xff, 0xff}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventwire.ID(tt.raw); got != tt.want {
				t.Fatalf("ID = %q, want %q", got, tt.want)
			}
		})
	}
}
