package pebblestore_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/fedchain/orchestrator/solo/pebblestore"
	"github.com/fedchain/orchestrator/solo/store"
)

var (
	powerLossSeed    = flag.Uint64("powerloss.seed", 0, "seed of TestPowerLoss (0: from the clock; the seed is logged)")
	powerLossCrashes = flag.Int("powerloss.crashes", 40, "power losses TestPowerLoss simulates")
)

// powerLossKeys is how many keys each transaction of TestPowerLoss writes:
// enough for a batch to span several log blocks, so that a torn write would
// leave some of them behind.
const powerLossKeys = 24

// TestPowerLoss is the store's durability proof against power loss, which a
// kill -9 cannot give (the page cache survives the process). The database
// runs on Pebble's crashable in-memory file system; while writers commit
// concurrently (so commits are grouped), the test takes crash images of the
// file system at random moments, each keeping only what was synced plus a
// random share of what was not (a torn, reordered tail). It reopens every
// image and checks that every transaction acknowledged before the image was
// taken is there in full, that no transaction is there in part, and that
// the event log holds exactly one event for each transaction whose writes
// are there.
func TestPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("power-loss simulation: not in -short")
	}
	seed := *powerLossSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -powerloss.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	fs := vfs.NewCrashableMem()
	st, err := pebblestore.Open("db", pebblestore.WithFS(fs), pebblestore.WithMemTableSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		next  atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
		// pause holds the writers while an image is checked, so that the
		// database grows by a bounded number of commits between losses.
		pause sync.RWMutex
	)
	ctx := context.Background()
	const writers = 4
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				pause.RLock()
				tx := fmt.Sprintf("tx%06d", next.Add(1))
				err := st.Commit(ctx, powerLossBatch(tx))
				if err == nil {
					mu.Lock()
					acked[tx] = true
					mu.Unlock()
				}
				pause.RUnlock()
				if err != nil {
					errs <- fmt.Errorf("commit %s: %w", tx, err)
					return
				}
			}
		}()
	}

	crashes, checkedTx := 0, 0
	for crashes < *powerLossCrashes {
		// Lose power after a random number of further commits, while
		// others are in flight.
		for target := next.Load() + 1 + rng.Int64N(200); next.Load() < target; {
			runtime.Gosched()
		}
		// Only what was acknowledged before the image is promised.
		mu.Lock()
		promised := make([]string, 0, len(acked))
		for tx := range acked {
			promised = append(promised, tx)
		}
		mu.Unlock()
		img := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))})
		pause.Lock()
		checkedTx += checkPowerLossImage(t, img, promised)
		pause.Unlock()
		crashes++
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		if t.Failed() {
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	figures := fmt.Sprintf("power loss (embedded store, Pebble crashable FS): %d losses, %d transactions acknowledged, %d acknowledged transactions found whole after the losses, 0 lost, 0 partial, events match", crashes, len(acked), checkedTx)
	t.Log(figures)
	report(t, figures)
}

// powerLossBatch writes powerLossKeys keys of transaction tx and its event.
func powerLossBatch(tx string) *store.Batch {
	b := &store.Batch{TxID: tx, Event: &store.Event{TxID: tx, Name: "powerloss", Payload: []byte(tx)}}
	for i := 0; i < powerLossKeys; i++ {
		b.Writes = append(b.Writes, store.Write{Key: fmt.Sprintf("%s/%02d", tx, i), Value: []byte(strings.Repeat(tx, 8))})
	}
	return b
}

// checkPowerLossImage opens a crash image and checks it; it returns how many
// promised transactions it found.
func checkPowerLossImage(t *testing.T, img *vfs.MemFS, promised []string) int {
	t.Helper()
	st, err := pebblestore.Open("db", pebblestore.WithFS(img))
	if err != nil {
		t.Fatalf("reopen after power loss: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	r, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kvs, err := r.Scan(ctx, "", "", 0)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, kv := range kvs {
		tx, _, _ := strings.Cut(kv.Key, "/")
		if string(kv.Value) != strings.Repeat(tx, 8) {
			t.Fatalf("key %s has value %q", kv.Key, kv.Value)
		}
		keys[tx]++
	}
	for tx, n := range keys {
		if n != powerLossKeys {
			t.Errorf("transaction %s is there in part: %d of %d keys", tx, n, powerLossKeys)
		}
	}
	evs, err := st.ReadEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	var last uint64
	for _, e := range evs {
		if e.Seq <= last {
			t.Errorf("event %d after %d", e.Seq, last)
		}
		last = e.Seq
		events[e.TxID]++
		if keys[e.TxID] == 0 {
			t.Errorf("event of %s without its writes", e.TxID)
		}
	}
	for tx := range keys {
		if events[tx] != 1 {
			t.Errorf("transaction %s has %d events", tx, events[tx])
		}
	}
	found := 0
	for _, tx := range promised {
		if keys[tx] == 0 {
			t.Errorf("acknowledged transaction %s lost", tx)
			continue
		}
		found++
	}
	return found
}

// report appends a line of figures to the file named by FEDCHAIN_REPORT,
// where .ci/run collects the reliability figures it prints.
func report(t *testing.T, line string) {
	path := os.Getenv("FEDCHAIN_REPORT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("report: %v", err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, line); err != nil {
		t.Errorf("report: %v", err)
	}
}
