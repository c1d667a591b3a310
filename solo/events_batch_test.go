package solo

import (
	"testing"
)

func TestNextEventBatch(t *testing.T) {
	entries := func(n, size int) []Event {
		evs := make([]Event, n)
		for i := range evs {
			evs[i] = Event{Payload: make([]byte, size)}
		}
		return evs
	}
	for _, tc := range []struct {
		name  string
		limit int
		evs   []Event
		want  int
	}{
		{"nothing read: same limit", 8, nil, 8},
		{"small entries: the limit doubles", 8, entries(8, 1<<10), 16},
		{"small entries: at most 256", 256, entries(256, 100), 256},
		{"a short batch of small entries still grows", 64, entries(3, 1<<10), 128},
		{"entries of 200 KiB: five of them", 8, entries(8, 200<<10), 5},
		{"entries of 600 KiB: one at a time", 8, entries(8, 600<<10), 1},
		{"entries over 1 MiB: still one", 1, entries(1, 3<<20), 1},
		{"empty payloads", 8, entries(8, 0), 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextEventBatch(tc.limit, tc.evs); got != tc.want {
				t.Errorf("nextEventBatch(%d, %d entries) = %d, want %d", tc.limit, len(tc.evs), got, tc.want)
			}
		})
	}
	// A stream of large entries settles at about a MiB per batch.
	limit, big := firstEventBatch, entries(maxEventBatch, 150<<10)
	for range 5 {
		limit = nextEventBatch(limit, big[:limit])
	}
	if bytes := limit * 150 << 10; bytes > eventBatchBytes || bytes < eventBatchBytes/2 {
		t.Errorf("entries of 150 KiB: batches of %d (%d bytes), want about %d bytes", limit, bytes, eventBatchBytes)
	}
}
