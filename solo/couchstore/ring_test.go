package couchstore

import (
	"fmt"
	"testing"
)

// The event ring serves reads from the entry after its start on, and
// refuses (ok false) those that need older entries.
func TestEventRing(t *testing.T) {
	ev := func(names ...string) []commitEvent {
		var out []commitEvent
		for _, n := range names {
			out = append(out, commitEvent{TxID: n, Name: n})
		}
		return out
	}
	fresh := eventRing{}
	fresh.add(1, ev("a", "b"))
	fresh.add(2, nil)
	fresh.add(3, ev("c"))
	reopened := eventRing{from: 5}
	reopened.add(6, ev("x"))
	reopened.add(7, ev("y", "z"))

	tests := []struct {
		name  string
		r     *eventRing
		after uint64
		limit int
		want  string // tx ids, or "refused"
	}{
		{"all", &fresh, 0, 0, "[a b c]"},
		{"limit", &fresh, 0, 2, "[a b]"},
		{"inside an entry", &fresh, eventSeq(1, 0), 0, "[b c]"},
		{"after an empty entry", &fresh, 2 << eventBits, 0, "[c]"},
		{"at the end", &fresh, eventSeq(3, 0), 0, "[]"},
		{"reopened: older entries are on the server", &reopened, 0, 0, "refused"},
		{"reopened: the entry before the ring", &reopened, 5 << eventBits, 0, "refused"},
		{"reopened: inside the ring", &reopened, eventSeq(6, 0), 1, "[y]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.r.read(tc.after, tc.limit)
			s := "refused"
			if ok {
				ids := []string{}
				for _, e := range got {
					ids = append(ids, e.TxID)
				}
				s = fmt.Sprint(ids)
			}
			if s != tc.want {
				t.Errorf("read(%d, %d) = %s, want %s", tc.after, tc.limit, s, tc.want)
			}
		})
	}
}
