package ledger

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// TestSortableEncodings checks that the key encodings sort as what they
// encode and decode back to it.
func TestSortableEncodings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	times := []int64{0, 1, 63, 64, 999, 1_000_000, 1772600767000000000, math.MaxInt64 - 1, math.MaxInt64}
	for range 200 {
		times = append(times, rng.Int64())
	}
	slices.Sort(times)
	for i, v := range times {
		s := string(appendTime(nil, v))
		if len(s) != timeChars {
			t.Fatalf("appendTime(%d) = %q: %d characters", v, s, len(s))
		}
		if got, ok := parseFixed(s, timeChars); !ok || got != uint64(v) {
			t.Errorf("parseFixed(appendTime(%d)) = %d, %v", v, got, ok)
		}
		if i > 0 && times[i-1] != v && string(appendTime(nil, times[i-1])) >= s {
			t.Errorf("appendTime(%d) does not sort before appendTime(%d)", times[i-1], v)
		}
	}
	if appendTime(nil, -5)[timeChars-1] != sortable64[0] {
		t.Errorf("a negative time does not sort as the epoch")
	}

	counts := []int{0, 1, 5, 63, 64, 65, 4095, 4096, 999999, 1 << 40}
	for i, v := range counts {
		s := string(appendCount(nil, v))
		got, rest, ok := parseCount(s + "tail")
		if !ok || got != v || rest != "tail" {
			t.Errorf("parseCount(appendCount(%d)+tail) = %d, %q, %v", v, got, rest, ok)
		}
		if i > 0 && string(appendCount(nil, counts[i-1])) >= s {
			t.Errorf("appendCount(%d) does not sort before appendCount(%d)", counts[i-1], v)
		}
	}

	var uuids []string
	for range 300 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		if len(uuids) < 4 {
			b = [16]byte{}
			b[len(uuids)*5%16] = 0xff >> len(uuids)
		}
		uuids = append(uuids, fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
	}
	uuids = append(uuids, "ffffffff-ffff-ffff-ffff-ffffffffffff")
	slices.Sort(uuids)
	for i, u := range uuids {
		a := keyAttr(u)
		if len(a) != uuidChars {
			t.Fatalf("keyAttr(%s) = %q: %d characters", u, a, len(a))
		}
		if got, err := parseKey(a); err != nil || got != u {
			t.Errorf("parseKey(keyAttr(%s)) = %s, %v", u, got, err)
		}
		if i > 0 && keyAttr(uuids[i-1]) >= a {
			t.Errorf("keyAttr(%s) does not sort before keyAttr(%s)", uuids[i-1], u)
		}
	}
	for _, raw := range []string{"", "t1", "MyOrg1MSP", "0000000-0000-0000-0000-0000000000000", "0000000A-0000-0000-0000-000000000000", "éà"} {
		a := keyAttr(raw)
		if a[0] != rawKeyMark {
			t.Errorf("keyAttr(%q) = %q, want the raw form", raw, a)
		}
		if got, err := parseKey(a); err != nil || got != raw {
			t.Errorf("parseKey(keyAttr(%q)) = %q, %v", raw, got, err)
		}
	}
	for _, bad := range []string{"", "short", keyAttr(uuids[0])[:21] + "1", keyAttr(uuids[0])[:21] + "!"} {
		if got, err := parseKey(bad); err == nil {
			t.Errorf("parseKey(%q) = %q, want an error", bad, got)
		}
	}
}

// TestEventKeyParts checks that an asset index entry gives back its log
// entry and rank, and that log keys sort by time.
func TestEventKeyParts(t *testing.T) {
	base := eventAssetBase("00000000-0004-4000-8000-000000000000")
	if len(base) != 1+uuidChars+1 {
		t.Errorf("asset base %q", base)
	}
	for _, c := range []struct {
		nanos int64
		tx    string
		n     int
	}{{0, "", 0}, {1772600767000000000, "0123456789abcdef", 7}, {math.MaxInt64, "ff", 999999}, {5, "x\x00y", 1 << 30}} {
		logKey := eventLogKey(c.nanos, c.tx)
		if len(logKey) != eventLogKeyLen {
			t.Errorf("log key %q: %d bytes", logKey, len(logKey))
		}
		if got, ok := keyTime(logKey); !ok || got != c.nanos {
			t.Errorf("keyTime(%q) = %d, %v; want %d", logKey, got, ok, c.nanos)
		}
		entry := string(appendEventAssetKey(nil, base, logKey, c.n))
		if k, n, ok := logPosOf(entry, base); !ok || k != logKey || n != c.n {
			t.Errorf("logPosOf(%q) = %q, %d, %v; want %q, %d", entry, k, n, ok, logKey, c.n)
		}
	}
	if a, b := eventLogKey(5, "zz"), eventLogKey(6, "aa"); a >= b {
		t.Errorf("log key at 5 %q not before log key at 6 %q", a, b)
	}
	for _, bad := range []string{base, base + "x", "other", base + string(appendTime(nil, 1)) + eventLogKey(1, "t")[1+timeChars:]} {
		if k, n, ok := logPosOf(bad, base); ok {
			t.Errorf("logPosOf(%q) = %q, %d; want none", bad, k, n)
		}
	}
	for _, c := range []struct {
		ak, ek uint64
		f      *protos.EventQueryFilter
		want   bool
	}{
		{9, 2, nil, true},
		{9, 2, &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK}, true},
		{9, 2, &protos.EventQueryFilter{AssetKind: protos.AssetKind_ASSET_MODEL}, false},
		{9, 2, &protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_UPDATED}, true},
		{9, 2, &protos.EventQueryFilter{EventKind: protos.EventKind_EVENT_ASSET_CREATED}, false},
	} {
		if ak := uint64(protos.AssetKind_ASSET_COMPUTE_TASK); c.ak == 9 {
			c.ak = ak
		}
		if got := kindsMatch(c.ak, c.ek, c.f); got != c.want {
			t.Errorf("kindsMatch(%d, %d, %v) = %v", c.ak, c.ek, c.f, got)
		}
	}
}

// TestEventLogCodec round-trips a log entry, and checks that a malformed
// one or one of another layout is refused.
func TestEventLogCodec(t *testing.T) {
	ts := &timestamppb.Timestamp{Seconds: 1767323045, Nanos: 1000}
	task := &protos.ComputeTask{Key: "00000000-0004-4000-8000-000000000000", Worker: "w", CreationDate: ts, Status: protos.ComputeTaskStatus_STATUS_DONE}
	evs := []*protos.Event{
		{Id: "x", AssetKey: task.Key, AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: protos.EventKind_EVENT_ASSET_UPDATED,
			Channel: "c", Timestamp: ts, Metadata: map[string]string{"reason": "r"}, Asset: &protos.Event_ComputeTask{ComputeTask: task}},
		{Id: "y", AssetKey: "MyOrg1MSP", AssetKind: protos.AssetKind_ASSET_ORGANIZATION, EventKind: protos.EventKind_EVENT_ASSET_CREATED,
			Channel: "c", Timestamp: ts, Asset: &protos.Event_Organization{Organization: &protos.Organization{Id: "MyOrg1MSP"}}},
		{AssetKey: "k"},
	}
	var bodies [][]byte
	for i, ev := range evs {
		b, err := Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var ref []byte
		if i == 0 {
			ref, _ = Marshal(&protos.ComputeTask{Status: task.Status})
		}
		body, err := eventBody(b, ref)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	for _, txID := range []string{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "not hex", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"} {
		b := appendEventLog(nil, txID, ts, evs, bodies)
		lg, err := parseEventLog("k", b)
		if err != nil {
			t.Fatal(err)
		}
		if lg.txID != txID || !proto.Equal(lg.ts, ts) || lg.count != len(evs) {
			t.Errorf("header: %q %v %d", lg.txID, lg.ts, lg.count)
		}
		for i := 0; ; i++ {
			e, ok, err := lg.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				if i != len(evs) {
					t.Errorf("%d events read, want %d", i, len(evs))
				}
				break
			}
			got, err := lg.event(e, "c")
			if err != nil {
				t.Fatal(err)
			}
			want := proto.Clone(evs[i]).(*protos.Event)
			want.Id, want.Channel, want.Timestamp = EventID(txID, i), "c", ts
			if i == 0 {
				want.Asset = &protos.Event_ComputeTask{ComputeTask: &protos.ComputeTask{Status: task.Status}}
			}
			if !proto.Equal(got, want) {
				t.Errorf("event %d = %v, want %v", i, got, want)
			}
		}
		for cut := 0; cut < len(b); cut++ {
			lg, err := parseEventLog("k", b[:cut])
			for err == nil {
				var ok bool
				if _, ok, err = lg.next(); !ok {
					break
				}
			}
			if err == nil && lg.rank == lg.count {
				t.Errorf("entry cut at %d of %d bytes read whole", cut, len(b))
			}
		}
	}
	old, _ := Marshal(evs[1])
	if _, err := parseEventLog("event\x00all", old); err == nil {
		t.Errorf("an event of the former layout read as a log entry")
	}
	// The body of an encoding whose head fields come last is still the
	// fields after them.
	var shuffled []byte
	b0, _ := Marshal(&protos.Event{Metadata: map[string]string{"a": "b"}})
	b1, _ := Marshal(&protos.Event{Id: "i", AssetKey: "k"})
	shuffled = append(append(shuffled, b0...), b1...)
	if got, _ := eventBody(shuffled, nil); !bytes.Equal(got, b0) {
		t.Errorf("eventBody of shuffled fields = %x, want %x", got, b0)
	}
}
