package ledger

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/protos"
)

func TestEventKeyParts(t *testing.T) {
	for _, v := range []int64{0, 7, 999, 1_000_000, 1772600767000000000, math.MaxInt64} {
		if got, want := ascTime(v), fmt.Sprintf("%020d", v); got != want {
			t.Errorf("ascTime(%d) = %q, want %q", v, got, want)
		}
		if got, want := descTime(v), fmt.Sprintf("%020d", math.MaxInt64-v); got != want {
			t.Errorf("descTime(%d) = %q, want %q", v, got, want)
		}
		if got, want := string(appendPadded(nil, v, 6)), fmt.Sprintf("%06d", v); got != want {
			t.Errorf("appendPadded(%d, 6) = %q, want %q", v, got, want)
		}
	}
	// Inverted hex strings sort in reverse.
	ids := []string{"00", "09", "0a", "0f", "90", "a0", "ff", "x1"}
	for i := 1; i < len(ids); i++ {
		a, b := string(appendInvertedHex(nil, ids[i-1])), string(appendInvertedHex(nil, ids[i]))
		if !strings.HasPrefix(ids[i], "x") && a <= b {
			t.Errorf("inverted %s = %s not after inverted %s = %s", ids[i-1], a, ids[i], b)
		}
	}
	if got := string(appendInvertedHex(nil, "0123456789abcdef-x")); got != "fedcba9876543210-x" {
		t.Errorf("appendInvertedHex = %q", got)
	}
	ev := &protos.Event{AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: protos.EventKind_EVENT_ASSET_UPDATED}
	key := string(appendKinds([]byte("event\x00all\x00a\x00x"), ev))
	for _, c := range []struct {
		f    *protos.EventQueryFilter
		want bool
	}{
		{nil, true},
		{&protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK}, true},
		{&protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_MODEL}, false},
		{&protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_UPDATED}, true},
		{&protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_CREATED}, false},
		{&protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: protos.EventKind_EVENT_ASSET_CREATED}, false},
	} {
		if got := kindsMatch(key, c.f); got != c.want {
			t.Errorf("kindsMatch(%v) = %v, want %v", c.f, got, c.want)
		}
	}
	// Index entries give back their event's primary key.
	kinds := string(appendKinds(nil, ev))
	for _, c := range []struct {
		nanos int64
		tx    string
		n     int
	}{{0, "00ff", 0}, {1772600767000000123, strings.Repeat("9a", 32), 999999}, {math.MaxInt64, "tx-1", 42}} {
		primary := eventAllAsc + string(appendEventPos(nil, c.nanos, c.tx, c.n)) + kinds
		desc := eventAllDesc + string(appendEventDescPos(nil, c.nanos, c.tx, c.n)) + kinds
		byKey := eventByKey + "asset\x00" + string(appendEventPos(nil, c.nanos, c.tx, c.n)) + kinds
		if got := primaryOf(desc, eventAllDesc); got != primary {
			t.Errorf("primaryOf(%q) = %q, want %q", desc, got, primary)
		}
		if got := primaryOf(byKey, eventByKey+"asset\x00"); got != primary {
			t.Errorf("primaryOf(%q) = %q, want %q", byKey, got, primary)
		}
	}
	for _, bad := range []string{eventAllDesc, eventAllDesc + "x", "other"} {
		if got := primaryOf(bad, eventAllDesc); got != "" {
			t.Errorf("primaryOf(%q) = %q, want none", bad, got)
		}
	}
	if kindsMatch("x", nil) {
		t.Error("kindsMatch accepts a short key")
	}
}
