package memstore

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortedKeys(t *testing.T) {
	var s sortedKeys
	ref := map[string]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		k := string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26)))
		if i%3 == 0 {
			s.delete(k)
			delete(ref, k)
		} else {
			s.insert(k)
			ref[k] = true
		}
	}
	var want []string
	for k := range ref {
		want = append(want, k)
	}
	slices.Sort(want)
	for _, start := range []string{"", "a", "mmm", "zzz", "zzzz", want[len(want)/2]} {
		var got []string
		s.ascend(start, func(k string) bool { got = append(got, k); return true })
		i, _ := slices.BinarySearch(want, start)
		if !slices.Equal(got, want[i:]) {
			t.Fatalf("ascend(%q): %d keys, want %d", start, len(got), len(want)-i)
		}
	}
	if len(s.blocks) < 2 {
		t.Fatalf("no block split happened (%d blocks)", len(s.blocks))
	}
}
