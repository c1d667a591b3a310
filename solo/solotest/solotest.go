package solotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/store"
	"github.com/fedchain/orchestrator/solo/store/storetest"
)

// Channel is the channel the suite uses.
const Channel = "solotest"

// Org1 is the default creator of the suite's transactions.
var Org1 = solo.Identity{MSPID: "Org1MSP"}

// Client submits and evaluates the test contract's transactions on a Peer.
type Client struct {
	T    testing.TB
	Peer *solo.Peer
}

func (c Client) proposal(fn string, args ...any) solo.Proposal {
	a := [][]byte{[]byte("test:" + fn)}
	for _, x := range args {
		switch v := x.(type) {
		case string:
			a = append(a, []byte(v))
		default:
			a = append(a, []byte(mustJSON(v)))
		}
	}
	return solo.Proposal{Channel: Channel, Creator: Org1, Args: a}
}

// Submit submits fn(args...) and fails the test on error. Non-string
// arguments are sent as JSON.
func (c Client) Submit(fn string, args ...any) *solo.Result {
	c.T.Helper()
	res, err := c.Peer.Submit(context.Background(), c.proposal(fn, args...))
	if err != nil {
		c.T.Fatalf("submit %s%q: %v", fn, args, err)
	}
	return res
}

// SubmitErr submits fn(args...) and returns its error.
func (c Client) SubmitErr(fn string, args ...any) error {
	_, err := c.Peer.Submit(context.Background(), c.proposal(fn, args...))
	return err
}

// Evaluate evaluates fn(args...) and decodes its JSON result into out (if
// not nil); it fails the test on error.
func (c Client) Evaluate(out any, fn string, args ...any) {
	c.T.Helper()
	res, err := c.Peer.Evaluate(context.Background(), c.proposal(fn, args...))
	if err != nil {
		c.T.Fatalf("evaluate %s%q: %v", fn, args, err)
	}
	if out != nil {
		if s, ok := out.(*string); ok {
			*s = string(res.Payload)
			return
		}
		if err := json.Unmarshal(res.Payload, out); err != nil {
			c.T.Fatalf("evaluate %s: decode %q: %v", fn, res.Payload, err)
		}
	}
}

// NewPeer returns a Peer running the test chaincode over opener, closed at
// the end of the test.
func NewPeer(t testing.TB, opener store.Opener, opts ...solo.Option) *solo.Peer {
	t.Helper()
	cc, err := NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	p := solo.New(cc, opener, opts...)
	t.Cleanup(func() { p.Close() })
	return p
}

// Run runs the chaincode suite on stores from newOpener.
func Run(t *testing.T, newOpener storetest.NewOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c Client)
	}{
		{"PutGetDel", testPutGetDel},
		{"ReadsDoNotSeeOwnWrites", testOwnWrites},
		{"CompositeIndex", testCompositeIndex},
		{"RangeExcludesComposite", testRangeExcludesComposite},
		{"Pagination", testPagination},
		{"PaginationRules", testPaginationRules},
		{"Events", testEvents},
		{"ChaincodeError", testChaincodeError},
		{"Identity", testIdentity},
		{"Unsupported", testUnsupported},
		{"ConflictingIncrements", testConflictingIncrements},
		{"PhantomRetried", testPhantom},
		{"ConcurrentTransfers", testTransfers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPeer(t, newOpener(t))
			tc.fn(t, Client{T: t, Peer: p})
		})
	}
}

func testPutGetDel(t *testing.T, c Client) {
	c.Submit("Put", "k1", "v1")
	c.Submit("Put", "_under", "u")
	c.Submit("Put", "日本\U0010FFFF", "nonascii")
	var s string
	for key, want := range map[string]string{"k1": "v1", "_under": "u", "日本\U0010FFFF": "nonascii", "absent": ""} {
		c.Evaluate(&s, "Get", key)
		if s != want {
			t.Errorf("Get(%q) = %q, want %q", key, s, want)
		}
	}
	var many []string
	c.Evaluate(&many, "GetMany", []string{"_under", "absent", "k1"})
	if !slices.Equal(many, []string{"u", "", "v1"}) {
		t.Errorf("GetMany = %q", many)
	}
	c.Submit("Del", "k1")
	c.Evaluate(&s, "Get", "k1")
	if s != "" {
		t.Errorf("after Del: %q", s)
	}
	// An empty value deletes, as on Fabric.
	c.Submit("Put", "_under", "")
	var keys []string
	c.Evaluate(&keys, "Range", "", "")
	if !slices.Equal(keys, []string{"日本\U0010FFFF"}) {
		t.Errorf("after empty put: keys %q", keys)
	}
}

func testOwnWrites(t *testing.T, c Client) {
	c.Submit("Put", "k", "old")
	res := c.Submit("PutAndGet", "k", "new")
	if string(res.Payload) != "old" {
		t.Errorf("read after own write saw %q, want the committed %q", res.Payload, "old")
	}
	res = c.Submit("PutAndGet", "fresh", "new")
	if string(res.Payload) != "" {
		t.Errorf("read of own new key saw %q, want nothing", res.Payload)
	}
	var s string
	c.Evaluate(&s, "Get", "k")
	if s != "new" {
		t.Errorf("committed value %q", s)
	}
}

func testCompositeIndex(t *testing.T, c Client) {
	c.Submit("PutOwned", "a1", "alice", "x")
	c.Submit("PutOwned", "a2", "alice", "y")
	c.Submit("PutOwned", "b1", "bob", "z")
	c.Submit("PutOwned", "a0", "alice", "w")
	c.Submit("PutOwned", "c1", "alice2", "w") // prefix of another owner: not matched
	var ids []string
	c.Evaluate(&ids, "ByOwner", "alice")
	if !slices.Equal(ids, []string{"a0", "a1", "a2"}) {
		t.Errorf("ByOwner(alice) = %q", ids)
	}
	c.Evaluate(&ids, "ByOwner", "nobody")
	if len(ids) != 0 {
		t.Errorf("ByOwner(nobody) = %q", ids)
	}
	if err := c.SubmitErr("ByOwner", "bad\x00owner"); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("composite attribute with U+0000: err = %v", err)
	}
}

func testRangeExcludesComposite(t *testing.T, c Client) {
	c.Submit("PutOwned", "a1", "alice", "x")
	c.Submit("Put", "b", "1")
	c.Submit("Put", "c", "1")
	var keys []string
	c.Evaluate(&keys, "Range", "", "")
	if !slices.Equal(keys, []string{"a1", "b", "c"}) {
		t.Errorf("Range all = %q", keys)
	}
	c.Evaluate(&keys, "Range", "b", "c")
	if !slices.Equal(keys, []string{"b"}) {
		t.Errorf("Range [b,c) = %q", keys)
	}
	if err := c.SubmitErr("RangeComposite"); err == nil || !strings.Contains(err.Error(), "null character") {
		t.Errorf("range starting with U+0000: err = %v", err)
	}
}

func testPagination(t *testing.T, c Client) {
	for i := range 7 {
		c.Submit("Put", fmt.Sprintf("p%d", i), "v")
		c.Submit("PutOwned", fmt.Sprintf("o%d", i), "own", "v")
	}
	var pg Page
	c.Evaluate(&pg, "RangePage", "p", "q", int32(3), "")
	if !slices.Equal(pg.Keys, []string{"p0", "p1", "p2"}) || pg.Bookmark != "p3" || pg.Count != 3 {
		t.Fatalf("page 1: %+v", pg)
	}
	c.Evaluate(&pg, "RangePage", "p", "q", int32(3), pg.Bookmark)
	if !slices.Equal(pg.Keys, []string{"p3", "p4", "p5"}) || pg.Bookmark != "p6" || pg.Count != 3 {
		t.Fatalf("page 2: %+v", pg)
	}
	c.Evaluate(&pg, "RangePage", "p", "q", int32(3), pg.Bookmark)
	if !slices.Equal(pg.Keys, []string{"p6"}) || pg.Bookmark != "" || pg.Count != 1 {
		t.Fatalf("page 3: %+v", pg)
	}
	// exactly a full last page: the bookmark is empty
	c.Evaluate(&pg, "RangePage", "p4", "q", int32(3), "")
	if !slices.Equal(pg.Keys, []string{"p4", "p5", "p6"}) || pg.Bookmark != "" || pg.Count != 3 {
		t.Fatalf("full last page: %+v", pg)
	}
	// page size 0 without bookmark: an unpaginated query, empty metadata
	c.Evaluate(&pg, "RangePage", "p", "q", int32(0), "")
	if len(pg.Keys) != 7 || pg.Bookmark != "" || pg.Count != 0 {
		t.Fatalf("page size 0: %+v", pg)
	}
	// composite-key pages; the bookmark is the next composite key
	c.Evaluate(&pg, "OwnerPage", "own", int32(4), "")
	if len(pg.Keys) != 4 || pg.Count != 4 || !strings.HasPrefix(pg.Bookmark, "\x00owner\x00own\x00o4") {
		t.Fatalf("composite page 1: %+v", pg)
	}
	c.Evaluate(&pg, "OwnerPage", "own", int32(4), pg.Bookmark)
	if len(pg.Keys) != 3 || pg.Count != 3 || pg.Bookmark != "" {
		t.Fatalf("composite page 2: %+v", pg)
	}
}

func testPaginationRules(t *testing.T, c Client) {
	c.Submit("Put", "a", "1")
	if err := c.SubmitErr("PutThenPage"); err == nil || !strings.Contains(err.Error(), "paginated") {
		t.Errorf("write then paginated query: err = %v", err)
	}
	if err := c.SubmitErr("PageThenPut"); err == nil || !strings.Contains(err.Error(), "paginated") {
		t.Errorf("paginated query then write: err = %v", err)
	}
	var s string
	c.Evaluate(&s, "Get", "ptp")
	if s != "" {
		t.Errorf("refused transaction committed its write")
	}
}

func testEvents(t *testing.T, c Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan solo.Event, 10)
	go func() {
		for ev, err := range c.Peer.Events(ctx, Channel, 0) {
			if err != nil {
				return
			}
			got <- ev
		}
	}()
	res := c.Submit("Emit", "first", "p1")
	if res.Event == nil || res.Event.Name != "first" || string(res.Event.Payload) != "p1" {
		t.Fatalf("result event: %+v", res.Event)
	}
	c.Submit("Put", "noevent", "x")
	if err := c.SubmitErr("Fail", "boom"); err == nil {
		t.Fatal("Fail succeeded")
	}
	res2 := c.Submit("Emit", "second", "p2")
	for i, want := range []*solo.Result{res, res2} {
		select {
		case ev := <-got:
			if ev.TxID != want.TxID || ev.Name != want.Event.Name || string(ev.Payload) != string(want.Event.Payload) {
				t.Fatalf("live event %d: %+v, want tx %s %+v", i, ev, want.TxID, want.Event)
			}
		case <-ctx.Done():
			t.Fatalf("live event %d not delivered", i)
		}
	}
	evs, err := c.Peer.ReadEvents(ctx, Channel, 0, 0)
	if err != nil || len(evs) != 2 {
		t.Fatalf("ReadEvents: %d events, %v", len(evs), err)
	}
	after, err := c.Peer.ReadEvents(ctx, Channel, evs[0].Seq, 0)
	if err != nil || len(after) != 1 || after[0].TxID != res2.TxID {
		t.Fatalf("ReadEvents after first: %+v %v", after, err)
	}
	// Evaluate never commits an event.
	if _, err := c.Peer.Evaluate(ctx, c.proposal("Emit", "ghost", "x")); err != nil {
		t.Fatal(err)
	}
	if evs, _ := c.Peer.ReadEvents(ctx, Channel, 0, 0); len(evs) != 2 {
		t.Fatalf("Evaluate appended an event")
	}
}

func testChaincodeError(t *testing.T, c Client) {
	err := c.SubmitErr("Fail", "OE0002: thing not found")
	var ce *solo.ChaincodeError
	if !errors.As(err, &ce) || ce.Status != 500 || ce.Message != "OE0002: thing not found" || ce.TxID == "" {
		t.Fatalf("err = %#v", err)
	}
	var s string
	c.Evaluate(&s, "Get", "failed")
	if s != "" {
		t.Errorf("failed transaction wrote %q", s)
	}
	err = c.SubmitErr("NoSuchFunction")
	if !errors.As(err, &ce) {
		t.Fatalf("unknown function: %v", err)
	}
}

func testIdentity(t *testing.T, c Client) {
	var info TxInfo
	prop := c.proposal("Info")
	prop.Creator = solo.Identity{MSPID: "Org2MSP"}
	prop.Transient = map[string][]byte{"secret": []byte("s3")}
	res, err := c.Peer.Submit(context.Background(), prop)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(res.Payload, &info); err != nil {
		t.Fatal(err)
	}
	if info.MSPID != "Org2MSP" || info.ClientID == "" || info.TxID != res.TxID || len(info.TxID) != 64 || info.Channel != Channel || info.Transient != "s3" {
		t.Errorf("info = %+v (txid %s)", info, res.TxID)
	}
	if d := time.Since(time.Unix(info.Seconds, 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("timestamp %d is not now", info.Seconds)
	}
}

func testUnsupported(t *testing.T, c Client) {
	err := c.SubmitErr("Unsupported")
	if err == nil || !strings.Contains(err.Error(), "not supported in solo mode") {
		t.Fatalf("GetQueryResult: err = %v", err)
	}
}

// testConflictingIncrements runs many goroutines incrementing shared
// counters: every increment must land exactly once.
func testConflictingIncrements(t *testing.T, c Client) {
	const workers, per, counters = 16, 8, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	retried := 0
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				res, err := c.Peer.Submit(context.Background(), c.proposal("Incr", fmt.Sprint("ctr", (w+i)%counters)))
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				retried += res.Attempts - 1
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if !errors.Is(err, solo.ErrConflict) {
			t.Fatalf("unexpected error: %v", err)
		}
		failed++ // reported conflicts are allowed, lost updates are not
	}
	total := 0
	for i := range counters {
		var s string
		c.Evaluate(&s, "Get", fmt.Sprint("ctr", i))
		var n int
		fmt.Sscan(s, &n)
		total += n
	}
	if total != workers*per-failed {
		t.Fatalf("counters sum %d, want %d (%d reported conflicts)", total, workers*per-failed, failed)
	}
	t.Logf("%d retries, %d reported conflicts", retried, failed)
}

// testPhantom checks that a transaction whose range scan gains a key is
// re-executed: its count must match the final state.
func testPhantom(t *testing.T, c Client) {
	const writers = 10
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c.Submit("Put", fmt.Sprintf("r%02d", i), "v")
		}()
		go func() {
			defer wg.Done()
			c.Submit("CountRange", "r", "s", "count")
		}()
	}
	wg.Wait()
	res := c.Submit("CountRange", "r", "s", "count")
	if string(res.Payload) != fmt.Sprint(writers) {
		t.Fatalf("final count %s", res.Payload)
	}
}

// testTransfers moves amounts between accounts concurrently (reads through
// GetMultipleStates): money is neither created nor lost.
func testTransfers(t *testing.T, c Client) {
	const workers, per, accounts = 8, 8, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				f := w % accounts
				from, to := fmt.Sprint("acct", f), fmt.Sprint("acct", (f+1+i%3)%accounts)
				if err := c.SubmitErr("Transfer", from, to, w+1); err != nil && !errors.Is(err, solo.ErrConflict) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	var vals []string
	keys := []string{}
	for i := range accounts {
		keys = append(keys, fmt.Sprint("acct", i))
	}
	c.Evaluate(&vals, "GetMany", keys)
	sum, moved := 0, 0
	for _, v := range vals {
		var n int
		fmt.Sscan(v, &n)
		sum += n
		if n != 0 {
			moved++
		}
	}
	if sum != 0 || moved == 0 {
		t.Fatalf("balances %q sum to %d (want 0, some non-zero)", vals, sum)
	}
}
