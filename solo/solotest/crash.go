package solotest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/store"
)

const (
	crashEnv     = "SOLOTEST_CRASH_CHILD_DIR"
	crashRunEnv  = "SOLOTEST_CRASH_CHILD_RUN"
	keysPerTx    = 10
	crashWorkers = 8
)

// OpenDir opens the store.Opener of a durable store kept in a folder.
type OpenDir func(dir string) store.Opener

// CrashMain is the TestMain of a package that calls Crash: it lets the test
// binary double as the crash-test child (a commit loop that runs until it is
// killed) and otherwise runs the tests.
func CrashMain(m *testing.M, open OpenDir) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir, open)
		return
	}
	os.Exit(m.Run())
}

// crashChild submits PutN transactions from several goroutines and prints
// "ACK <prefix>" once Submit returned, until it is killed.
func crashChild(dir string, open OpenDir) {
	cc, err := NewChaincode()
	if err != nil {
		panic(err)
	}
	p := solo.New(cc, open(dir))
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				prefix := fmt.Sprintf("r%s-w%d-%06d", os.Getenv(crashRunEnv), w, i)
				_, err := p.Submit(context.Background(), solo.Proposal{
					Channel: Channel, Creator: Org1,
					Args: [][]byte{[]byte("test:PutN"), []byte(prefix), []byte(fmt.Sprint(keysPerTx))},
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "submit:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(out, "ACK", prefix)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// Crash kills (SIGKILL) a process in the middle of a commit loop on the
// store open gives, twice (the second round reopens a crashed store), and
// checks that every acknowledged transaction survived, that no transaction
// is partially applied and that the event log matches the state. The
// package's TestMain must call CrashMain with the same open.
func Crash(t *testing.T, open OpenDir) {
	if testing.Short() {
		t.Skip("crash test runs a child process")
	}
	dir := t.TempDir()
	acked := map[string]bool{} // over all rounds
	for round := range 2 {     // the second round reopens a crashed file
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, fmt.Sprint(crashRunEnv, "=", round))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		deadline := time.Now().Add(20 * time.Second)
		killed := false
		before := len(acked)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "ACK" {
				acked[f[1]] = true
			}
			if !killed && (len(acked)-before >= 300 || time.Now().After(deadline)) {
				// Kill while transactions are in flight; keep reading what
				// the child printed before it died.
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("child exited by itself after %d acks", len(acked))
		}
		checkCrashState(t, open(dir), acked)
	}
}

func checkCrashState(t *testing.T, o store.Opener, acked map[string]bool) {
	t.Helper()
	ctx := context.Background()
	st, err := o.Open(ctx, Channel)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kvs, err := r.Scan(ctx, "r", "s", 0)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	perTx := map[string]int{}
	for _, kv := range kvs {
		prefix, _, _ := strings.Cut(kv.Key, "/")
		if string(kv.Value) != prefix {
			t.Fatalf("key %q has value %q", kv.Key, kv.Value)
		}
		perTx[prefix]++
	}
	for prefix, n := range perTx {
		if n != keysPerTx {
			t.Errorf("transaction %s is partial: %d of %d keys", prefix, n, keysPerTx)
		}
	}
	for prefix := range acked {
		if perTx[prefix] != keysPerTx {
			t.Errorf("acknowledged transaction %s lost (%d keys)", prefix, perTx[prefix])
		}
	}
	evs, err := st.ReadEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		seen[string(e.Payload)] = true
	}
	if len(evs) != len(perTx) {
		t.Errorf("%d events for %d committed transactions", len(evs), len(perTx))
	}
	for prefix := range perTx {
		if !seen[prefix] {
			t.Errorf("committed transaction %s has no event", prefix)
		}
	}
	t.Logf("%d acknowledged, %d committed (%d unacknowledged but durable), %d events",
		len(acked), len(perTx), len(perTx)-len(acked), len(evs))
}
