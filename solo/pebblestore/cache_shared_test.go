package pebblestore

import (
	"context"
	"testing"
)

// TestOpenerSharesTheBlockCache: the channels of one Opener use one Pebble
// block cache, so its memory does not grow with the number of channels.
func TestOpenerSharesTheBlockCache(t *testing.T) {
	o := Opener(t.TempDir())
	ctx := context.Background()
	var caches []any
	for _, ch := range []string{"a", "b"} {
		st, err := o.Open(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		caches = append(caches, st.(*Store).opts.cache)
	}
	if caches[0] == nil || caches[0] != caches[1] {
		t.Fatalf("channel caches %v: want one shared cache", caches)
	}
}
