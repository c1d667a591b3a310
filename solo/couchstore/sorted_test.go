package couchstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortedIDs agrees with a sorted slice under random inserts, removes and
// range walks, across chunk splits.
func TestSortedIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s sortedIDs
	ref := map[string]bool{}
	key := func() string { return fmt.Sprintf("k%05d", r.IntN(5000)) }
	for step := range 20000 {
		k := key()
		if r.IntN(3) == 0 {
			s.remove(k)
			delete(ref, k)
		} else {
			s.insert(k)
			ref[k] = true
		}
		if step%500 != 0 {
			continue
		}
		want := make([]string, 0, len(ref))
		for k := range ref {
			want = append(want, k)
		}
		slices.Sort(want)
		if s.n != len(want) {
			t.Fatalf("step %d: n = %d, want %d", step, s.n, len(want))
		}
		lo, hi := key(), key()
		if hi < lo {
			lo, hi = hi, lo
		}
		var got []string
		s.walk(lo, hi, func(id string) bool { got = append(got, id); return true })
		var wantRange []string
		for _, k := range want {
			if k >= lo && k < hi {
				wantRange = append(wantRange, k)
			}
		}
		if !slices.Equal(got, wantRange) {
			t.Fatalf("step %d: walk [%s, %s) = %d ids, want %d", step, lo, hi, len(got), len(wantRange))
		}
	}
	for _, ch := range s.chunks {
		if len(ch) == 0 || len(ch) > chunkMax {
			t.Fatalf("chunk of %d ids", len(ch))
		}
	}
}
