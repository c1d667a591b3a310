package pebblestore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/fedchain/orchestrator/solo/pebblestore"
	"github.com/fedchain/orchestrator/solo/store"
)

// BenchmarkGetMany reads 500 keys per Reader of a 100k-key store, drawn
// from 2,000 hot keys as RegisterTasks reads its data samples, with the
// read cache and without.
func BenchmarkGetMany(b *testing.B) {
	b.Run("cache", func(b *testing.B) { benchGetMany(b, false) })
	b.Run("nocache", func(b *testing.B) { benchGetMany(b, false, pebblestore.WithReadCache(0)) })
	// Absent keys, as the existence checks of new assets read them.
	b.Run("absent", func(b *testing.B) { benchGetMany(b, true) })
}

func benchGetMany(b *testing.B, absent bool, opts ...pebblestore.Option) {
	ctx := context.Background()
	st, err := pebblestore.Open(filepath.Join(b.TempDir(), "r.pebble"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 100000
	for i := 0; i < n; i += 1000 {
		var ws []store.Write
		for j := i; j < i+1000; j++ {
			ws = append(ws, store.Write{Key: fmt.Sprintf("\x00datasample\x00%08x-key\x00", uint32(j)*2654435761), Value: make([]byte, 200)})
		}
		if err := st.Commit(ctx, &store.Batch{TxID: fmt.Sprint(i), Writes: ws}); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([]string, 500)
	b.ResetTimer()
	for b.Loop() {
		for i := range keys {
			keys[i] = fmt.Sprintf("\x00datasample\x00%08x-key\x00", uint32(rand.IntN(2000)*50)*2654435761)
			if absent {
				keys[i] = fmt.Sprintf("\x00datasample\x00%08x-new\x00", rand.Uint32())
			}
		}
		r, err := st.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		kvs, err := r.GetMany(ctx, keys)
		if err != nil || (kvs[0].Value == nil) != absent {
			b.Fatal(err, "unexpected presence")
		}
		r.Close()
	}
}
