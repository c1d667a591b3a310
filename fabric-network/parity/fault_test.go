package parity_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
)

// The fault tests kill -9 processes of the running network and start them
// again (fabric-network/scripts/restart-node.sh), under a load of data
// manager registrations, and check that no acknowledged write is lost or
// duplicated and that every failure says whether the write happened. They
// run only with FABRIC_FAULTS=1 (test-fabric.sh sets it): they disrupt the
// network for whatever else runs on it.

// loadWorkers is how many callers register data managers at once.
const loadWorkers = 6

// load is a set of callers registering data managers through one
// organization's facade until stopped, recording what each call got.
type load struct {
	conn    *grpc.ClientConn
	msp, ch string
	stop    chan struct{}
	wg      sync.WaitGroup

	mu          sync.Mutex
	acked       []string         // the calls that succeeded
	unknown     []string         // Unavailable, outcome unknown
	unavailable []string         // Unavailable, nothing written
	others      map[string]error // anything else
	lastOK      time.Time
	failures    []time.Duration // how long each failed call took
}

func startLoad(ctx context.Context, conn *grpc.ClientConn, msp, ch string) *load {
	l := &load{conn: conn, msp: msp, ch: ch, stop: make(chan struct{}), others: map[string]error{}}
	dms := protos.NewDataManagerServiceClient(conn)
	for range loadWorkers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				k := uuid.NewString()
				cctx, cancel := context.WithTimeout(callAs(ctx, msp, ch), 90*time.Second)
				start := time.Now()
				_, err := dms.RegisterDataManager(cctx, chaincodetest.NewDataManager(k, &protos.NewPermissions{Public: true}))
				cancel()
				l.record(k, err, time.Since(start))
				if err != nil {
					// A pause between failures, so that an outage is not
					// a busy loop on a 2-core machine.
					select {
					case <-time.After(100 * time.Millisecond):
					case <-l.stop:
						return
					}
				}
			}
		}()
	}
	return l
}

func (l *load) record(k string, err error, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := status.Convert(err)
	switch {
	case err == nil:
		l.acked = append(l.acked, k)
		l.lastOK = time.Now()
		return
	case st.Code() == codes.Unavailable && st.Message() == facade.ErrOutcomeUnknown.Error():
		l.unknown = append(l.unknown, k)
	case st.Code() == codes.Unavailable:
		l.unavailable = append(l.unavailable, k)
	default:
		l.others[k] = err
	}
	l.failures = append(l.failures, took)
}

// ackedSince returns how many calls succeeded since t.
func (l *load) okSince(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastOK.After(t)
}

func (l *load) halt() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var slowest time.Duration
	for _, d := range l.failures {
		slowest = max(slowest, d)
	}
	return fmt.Sprintf("%d acknowledged, %d Unavailable (outcome unknown), %d Unavailable (nothing written), %d other errors; slowest failure %v",
		len(l.acked), len(l.unknown), len(l.unavailable), len(l.others), slowest.Round(time.Millisecond))
}

// faultNetwork is the running network, for the fault tests.
type faultNetwork struct {
	network
	state string
}

func faultEnv(t *testing.T) faultNetwork {
	t.Helper()
	if os.Getenv("FABRIC_FAULTS") != "1" {
		t.Skip("FABRIC_FAULTS=1 runs the fault tests (they kill and restart the network's processes)")
	}
	n := readNetwork(t)
	state := n.env["FABRIC_STATE"]
	if state == "" {
		t.Fatal("the settings file has no FABRIC_STATE")
	}
	return faultNetwork{network: n, state: state}
}

// kill9 kills process name of the network with SIGKILL and waits until it
// is gone.
func (f faultNetwork) kill9(t *testing.T, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.state, "pids", name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file of %s: %v", name, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s (%d): %v", name, pid, err)
	}
	waitFor(t, 10*time.Second, name+" to die", func() bool { return !alive(pid) })
	t.Logf("killed %s (pid %d) with SIGKILL", name, pid)
	// A test failing before it restarted name leaves the network whole.
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(f.state, "pids", name+".pid")); err == nil {
			if p, _ := strconv.Atoi(strings.TrimSpace(string(b))); p == pid {
				f.restart(t, name)
			}
		}
	})
}

// alive reports whether process pid runs: it exists and is no zombie (a
// killed process whose parent is gone waits for init to reap it).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// restart starts process name again with restart-node.sh.
func (f faultNetwork) restart(t *testing.T, name string) {
	t.Helper()
	cmd := exec.Command("../scripts/restart-node.sh", name)
	cmd.Env = append(os.Environ(), "FABRIC_STATE="+f.state)
	// Its own session: the restarted process outlives this test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restart %s: %v\n%s", name, err, out)
	}
}

// waitFor polls cond every 100 ms until it holds, or fails t after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check verifies what l recorded, once the network works again, through
// conn (a facade of another organization on the same channel, when there
// is one): every acknowledged registration is there with exactly one
// event; re-sending one whose outcome was unknown gets either success or
// AlreadyExists, and leaves exactly one event; re-sending one that said
// nothing was written succeeds. allowed lists the codes that a failure
// may have besides Unavailable.
func (l *load) check(ctx context.Context, t *testing.T, readers []*grpc.ClientConn, readerMSPs []string, allowed ...codes.Code) {
	t.Helper()
	for i, conn := range readers {
		orgs := protos.NewOrganizationServiceClient(conn)
		waitFor(t, 60*time.Second, readerMSPs[i]+"'s facade to answer", func() bool {
			_, err := orgs.GetAllOrganizations(callAs(ctx, readerMSPs[i], l.ch), &protos.GetAllOrganizationsParam{})
			return err == nil
		})
	}
	for k, err := range l.others {
		if !slices.Contains(allowed, status.Code(err)) {
			t.Errorf("registration %s failed with %v, want Unavailable", k, err)
		}
	}
	events := func(k string) int {
		t.Helper()
		page, err := protos.NewEventServiceClient(l.conn).QueryEvents(callAs(ctx, l.msp, l.ch),
			&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: k}})
		if err != nil {
			t.Fatalf("QueryEvents(%s): %v", k, err)
		}
		return len(page.GetEvents())
	}
	for _, k := range l.acked {
		for i, conn := range readers {
			if _, err := protos.NewDataManagerServiceClient(conn).GetDataManager(callAs(ctx, readerMSPs[i], l.ch), &protos.GetDataManagerParam{Key: k}); err != nil {
				t.Errorf("acknowledged data manager %s, read by %s: %v", k, readerMSPs[i], err)
			}
		}
		if n := events(k); n != 1 {
			t.Errorf("acknowledged data manager %s has %d events, want 1", k, n)
		}
	}
	dms := protos.NewDataManagerServiceClient(l.conn)
	// A client re-sends a call that was Unavailable, and does so again
	// while the network still settles after the restart (a restarted
	// peer answers before it has caught up and rejoined gossip).
	resend := func(k string) error {
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, err := dms.RegisterDataManager(callAs(ctx, l.msp, l.ch), chaincodetest.NewDataManager(k, &protos.NewPermissions{Public: true}))
			if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
				return err
			}
			time.Sleep(200 * time.Millisecond) // the client's back-off
		}
	}
	written := 0
	for _, k := range l.unknown {
		err := resend(k)
		switch status.Code(err) {
		case codes.OK:
		case codes.AlreadyExists:
			written++
		default:
			t.Errorf("re-sent registration %s (outcome unknown): %v, want success or AlreadyExists", k, err)
		}
		if n := events(k); n != 1 {
			t.Errorf("re-sent data manager %s has %d events, want 1", k, n)
		}
	}
	for _, k := range l.unavailable {
		if err := resend(k); err != nil {
			t.Errorf("re-sent registration %s (which said nothing was written): %v, want success", k, err)
		}
	}
	t.Logf("checked: %d acknowledged registrations present once each; %d of %d outcome-unknown ones had been written, re-sending is safe; %d nothing-written ones were not",
		len(l.acked), written, len(l.unknown), len(l.unavailable))
}

// recoverAfter waits until l gets a success after the restart at t0.
func (l *load) recoverAfter(t *testing.T, t0 time.Time, d time.Duration) time.Duration {
	t.Helper()
	waitFor(t, d, "a registration to succeed again", func() bool { return l.okSince(t0) })
	return time.Since(t0)
}

// TestFaultPeer kills -9 a peer under load through the first
// organization's facade, then restarts it: the second organization's peer
// (with the majority policy every write needs it), then the facade's own
// peer (the one its gateway goes through: calls in flight lose their
// commit status). Meanwhile writes fail with Unavailable, saying whether
// they may have happened; they succeed again once the peer is back.
func TestFaultPeer(t *testing.T) {
	f := faultEnv(t)
	for _, peer := range []string{"peer2", "peer1"} {
		t.Run(peer, func(t *testing.T) { faultPeer(t, f, peer) })
	}
}

func faultPeer(t *testing.T, f faultNetwork, peer string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ch := f.channels[0]
	c1, c2 := f.facade(t, 0), f.facade(t, 1)
	l := startLoad(ctx, c1, f.orgs[0], ch)
	t0 := time.Now()
	waitFor(t, 60*time.Second, "the load to get going", func() bool { return l.okSince(t0) })
	l.mu.Lock()
	ackedBefore := len(l.acked)
	l.mu.Unlock()
	f.kill9(t, peer)
	down := time.Now()
	// Long enough for calls to fail, or, where the policy does without
	// the peer (three organizations), to go on through the others.
	waitFor(t, 60*time.Second, "calls to fail or to go through the other peers", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.failures) >= loadWorkers || len(l.acked) >= ackedBefore+4*loadWorkers
	})
	t.Logf("%s down %v: %s", peer, time.Since(down).Round(time.Millisecond), l.summary())
	f.restart(t, peer)
	back := l.recoverAfter(t, time.Now(), 120*time.Second)
	waitFor(t, 60*time.Second, "more successes", func() bool { return l.okSince(time.Now().Add(-50 * time.Millisecond)) })
	l.halt()
	t.Logf("writes succeed again %v after the restart; %s", back.Round(time.Millisecond), l.summary())
	l.check(ctx, t, []*grpc.ClientConn{c1, c2}, f.orgs[:2])
}

// TestFaultOrderer kills -9 the orderer under load, then restarts it:
// submits fail fast with Unavailable meanwhile, and resume.
func TestFaultOrderer(t *testing.T) {
	f := faultEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ch := f.channels[0]
	c1, c2 := f.facade(t, 0), f.facade(t, 1)
	l := startLoad(ctx, c1, f.orgs[0], ch)
	t0 := time.Now()
	waitFor(t, 60*time.Second, "the load to get going", func() bool { return l.okSince(t0) })
	f.kill9(t, "orderer0")
	// Calls already handed to the orderer wait for their commit status
	// until the facade's submit timeout (60 s); those after them fail at
	// once. So the first failures may take that long.
	waitFor(t, 120*time.Second, "calls to fail", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.failures) >= 2*loadWorkers
	})
	l.mu.Lock()
	var slow []time.Duration
	for _, d := range l.failures {
		if d > 15*time.Second {
			slow = append(slow, d)
		}
	}
	l.mu.Unlock()
	t.Logf("orderer down: %s", l.summary())
	f.restart(t, "orderer0")
	back := l.recoverAfter(t, time.Now(), 120*time.Second)
	l.halt()
	t.Logf("writes succeed again %v after the restart; %s", back.Round(time.Millisecond), l.summary())
	// Calls in flight when the orderer died may wait for their commit
	// status; the ones after it must fail fast.
	if len(slow) > loadWorkers {
		t.Errorf("%d failures took more than 15 s (%v): submits must fail fast while the orderer is down", len(slow), slow)
	}
	l.check(ctx, t, []*grpc.ClientConn{c1, c2}, f.orgs[:2])
}

// TestFaultFacade kills -9 the first organization's facade while a
// subscriber follows its event stream and load goes through the second
// organization's facade, then restarts it: the subscriber, resuming from
// the last event id it got, gets every later event exactly once, in ledger
// order (compared with a stream read afterwards from the other facade),
// the facade having resumed from its checkpoint file.
func TestFaultFacade(t *testing.T) {
	f := faultEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ch := f.channels[0]
	c1, c2 := f.facade(t, 0), f.facade(t, 1)
	l := startLoad(ctx, c2, f.orgs[1], ch)
	t0 := time.Now()
	waitFor(t, 60*time.Second, "the load to get going", func() bool { return l.okSince(t0) })

	// The subscriber: from the current end of the stream, reconnecting
	// after the last event it got whenever the stream breaks.
	var (
		mu      sync.Mutex
		got     []*protos.Event
		breaks  int
		dups    []string
		seen    = map[string]bool{}
		subStop = make(chan struct{})
		subDone = make(chan struct{})
	)
	l.mu.Lock()
	firstKey := l.acked[0]
	l.mu.Unlock()
	page, err := protos.NewEventServiceClient(c1).QueryEvents(callAs(ctx, f.orgs[0], ch), &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: firstKey}})
	if err != nil || len(page.GetEvents()) != 1 {
		t.Fatalf("event of %s: %v, %v", firstKey, page, err)
	}
	start := page.GetEvents()[0].GetId()
	// Stopping the subscriber cancels the stream it waits on.
	subCtx, subCancel := context.WithCancel(ctx)
	defer subCancel()
	go func() {
		defer close(subDone)
		last := start
		for {
			sctx, scancel := context.WithCancel(callAs(subCtx, f.orgs[0], ch))
			stream, err := protos.NewEventServiceClient(c1).SubscribeToEvents(sctx, &protos.SubscribeToEventsParam{StartEventId: last})
			for err == nil {
				var ev *protos.Event
				ev, err = stream.Recv()
				if err != nil {
					break
				}
				mu.Lock()
				if seen[ev.GetId()] {
					dups = append(dups, ev.GetId())
				}
				seen[ev.GetId()] = true
				got = append(got, ev)
				mu.Unlock()
				last = ev.GetId()
				select {
				case <-subStop:
					scancel()
					return
				default:
				}
			}
			scancel()
			mu.Lock()
			breaks++
			mu.Unlock()
			select {
			case <-subStop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	waitFor(t, 60*time.Second, "the subscriber to get events", func() bool { return count() >= 5 })
	l.mu.Lock()
	ackedAtKill := len(l.acked)
	l.mu.Unlock()
	f.kill9(t, "facade1")
	before := count()
	waitFor(t, 30*time.Second, "more writes while the facade is down", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.acked) >= ackedAtKill+20
	})
	f.restart(t, "facade1")
	t.Logf("facade1 restarted after %d events", before)
	waitFor(t, 60*time.Second, "the subscriber to get events from the restarted facade", func() bool { return count() > before })
	l.halt()
	// The subscriber has every acknowledged registration's event.
	ackedKeys := map[string]bool{}
	for _, k := range l.acked {
		ackedKeys[k] = true
	}
	waitFor(t, 60*time.Second, "the subscriber to get every acknowledged event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		have := map[string]bool{}
		for _, ev := range got {
			have[ev.GetAssetKey()] = true
		}
		// The first calls may have been committed before the subscriber's
		// first event (another worker's in an earlier block): once every
		// worker has completed two more calls, none can be.
		for _, k := range l.acked[2*loadWorkers:] {
			if !have[k] {
				return false
			}
		}
		return true
	})
	close(subStop)
	subCancel()
	<-subDone
	t.Logf("subscriber has every acknowledged event: %d events", count())
	mu.Lock()
	defer mu.Unlock()
	if breaks == 0 {
		t.Error("the subscriber's stream never broke: the facade was not down")
	}
	if len(dups) > 0 {
		t.Errorf("the subscriber got %d events twice: %v", len(dups), dups[:min(5, len(dups))])
	}
	// Ledger order: a stream of the other facade after the same event
	// gives the same events, in the same order.
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	ref, err := protos.NewEventServiceClient(f.facade(t, 1)).SubscribeToEvents(callAs(rctx, f.orgs[1], ch), &protos.SubscribeToEventsParam{StartEventId: start})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range got {
		want, err := ref.Recv()
		if err != nil {
			t.Fatalf("reference stream, event %d of %d: %v", i, len(got), err)
		}
		if want.GetId() != ev.GetId() {
			t.Fatalf("event %d of the subscriber is %s (%s), the ledger's is %s (%s)", i, ev.GetId(), ev.GetAssetKey(), want.GetId(), want.GetAssetKey())
		}
	}
	// The restarted facade read its checkpoint: the file has the positions.
	ckpt, err := os.ReadFile(filepath.Join(f.state, "nodes", "facade1", "event-checkpoint.tsv"))
	if err != nil || !strings.Contains(string(ckpt), start) {
		t.Errorf("facade1's checkpoint does not hold event %s: %v", start, err)
	}
	t.Logf("subscriber: %d events, %d stream breaks, no duplicate, in ledger order; load: %s", len(got), breaks, l.summary())
	l.check(ctx, t, []*grpc.ClientConn{c1, c2}, f.orgs[:2])
	if err := ctx.Err(); err != nil {
		t.Fatal(err)
	}
}
