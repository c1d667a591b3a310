package eventwire_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
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

func TestDecode(t *testing.T) {
	var payload []byte
	for _, id := range []string{"a", "b", "c"} {
		b, err := proto.Marshal(&protos.Event{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		payload = protowire.AppendVarint(payload, uint64(len(b)))
		payload = append(payload, b...)
	}
	evs, err := eventwire.Decode(payload)
	if err != nil || len(evs) != 3 || evs[0].GetId() != "a" || evs[2].GetId() != "c" {
		t.Fatalf("Decode = %v, %v", evs, err)
	}
	for name, p := range map[string][]byte{
		"truncated":  payload[:len(payload)-1],
		"bad prefix": {0xff},
		"too long":   {0x05, 0x0a},
		"not events": {0x02, 0xff, 0xff},
	} {
		if _, err := eventwire.Decode(p); err == nil {
			t.Errorf("%s: Decode succeeded", name)
		}
	}
	if evs, err := eventwire.Decode(nil); err != nil || len(evs) != 0 {
		t.Errorf("empty payload: %v, %v", evs, err)
	}
}
