package solo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/store"
)

// failingStore is a memory store whose operations fail on demand, as a
// store whose backend went away.
type failingStore struct {
	store.Store
	reads, commits, events atomic.Pointer[error]
}

func (s *failingStore) fail(p *atomic.Pointer[error]) error {
	if e := p.Load(); e != nil {
		return *e
	}
	return nil
}

func (s *failingStore) Begin(ctx context.Context) (store.Reader, error) {
	r, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &failingReader{Reader: r, s: s}, nil
}

func (s *failingStore) Commit(ctx context.Context, b *store.Batch) error {
	if err := s.fail(&s.commits); err != nil {
		return err
	}
	return s.Store.Commit(ctx, b)
}

func (s *failingStore) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if err := s.fail(&s.events); err != nil {
		return nil, err
	}
	return s.Store.ReadEvents(ctx, after, limit)
}

type failingReader struct {
	store.Reader
	s *failingStore
}

func (r *failingReader) Get(ctx context.Context, key string) (store.KV, error) {
	if err := r.s.fail(&r.s.reads); err != nil {
		return store.KV{}, err
	}
	return r.Reader.Get(ctx, key)
}

func (r *failingReader) GetMany(ctx context.Context, keys []string) ([]store.KV, error) {
	if err := r.s.fail(&r.s.reads); err != nil {
		return nil, err
	}
	return r.Reader.GetMany(ctx, keys)
}

func (r *failingReader) Scan(ctx context.Context, start, end string, limit int) ([]store.KV, error) {
	if err := r.s.fail(&r.s.reads); err != nil {
		return nil, err
	}
	return r.Reader.Scan(ctx, start, end, limit)
}

func set(p *atomic.Pointer[error], err error) { p.Store(&err) }

func failingPeer(t *testing.T, cc shim.Chaincode) (*solo.Peer, *failingStore) {
	t.Helper()
	fs := &failingStore{Store: memstore.New()}
	p := solo.New(cc, store.OpenerFunc(func(context.Context, string) (store.Store, error) { return fs, nil }))
	t.Cleanup(func() { p.Close() })
	return p, fs
}

// TestStoreFailuresReachTheCaller: a store failure during a transaction
// is reported as the store's error (ErrUnavailable, ErrOutcomeUnknown
// intact), not as a chaincode error, even when the chaincode turned the
// failed read into an error response of its own, or ignored it.
func TestStoreFailuresReachTheCaller(t *testing.T) {
	outage := fmt.Errorf("couchdb: dial tcp: connection refused: %w", store.ErrUnavailable)
	lost := fmt.Errorf("journal PUT: answer lost: %w: %w", store.ErrUnavailable, store.ErrOutcomeUnknown)
	readAndFail := errCC(func(stub shim.ChaincodeStubInterface) error {
		_, err := stub.GetState("k")
		if err != nil {
			return fmt.Errorf("OE0000: internal: %v", err) // what a contract does
		}
		return stub.PutState("k", []byte("v"))
	})
	ignoreRead := errCC(func(stub shim.ChaincodeStubInterface) error {
		_, _ = stub.GetState("k")
		return stub.PutState("k", []byte("v"))
	})
	rangeRead := errCC(func(stub shim.ChaincodeStubInterface) error {
		it, err := stub.GetStateByRange("a", "z")
		if err != nil {
			return err
		}
		defer it.Close()
		for it.HasNext() {
			if _, err := it.Next(); err != nil {
				return err
			}
		}
		return nil
	})
	for _, tt := range []struct {
		name  string
		cc    shim.Chaincode
		setup func(fs *failingStore)
		is    []error
	}{
		{"read fails, chaincode reports it", readAndFail, func(fs *failingStore) { set(&fs.reads, outage) }, []error{store.ErrUnavailable}},
		{"read fails, chaincode ignores it", ignoreRead, func(fs *failingStore) { set(&fs.reads, outage) }, []error{store.ErrUnavailable}},
		{"range read fails", rangeRead, func(fs *failingStore) { set(&fs.reads, outage) }, []error{store.ErrUnavailable}},
		{"commit fails", readAndFail, func(fs *failingStore) { set(&fs.commits, outage) }, []error{store.ErrUnavailable}},
		{"commit outcome unknown", readAndFail, func(fs *failingStore) { set(&fs.commits, lost) }, []error{store.ErrUnavailable, store.ErrOutcomeUnknown}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, fs := failingPeer(t, tt.cc)
			tt.setup(fs)
			_, err := p.Submit(context.Background(), prop("x"))
			var ce *solo.ChaincodeError
			if errors.As(err, &ce) {
				t.Fatalf("store failure reported as a chaincode error: %v", err)
			}
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
			// Nothing was written.
			set(&fs.reads, nil)
			set(&fs.commits, nil)
			r, _ := fs.Store.Begin(context.Background())
			defer r.Close()
			if kv, _ := r.Get(context.Background(), "k"); kv.Value != nil && tt.name != "commit outcome unknown" {
				t.Errorf("a failed transaction wrote %q", kv.Value)
			}
		})
	}
	// A chaincode error without a store failure stays a chaincode error.
	p, _ := failingPeer(t, errCC(func(shim.ChaincodeStubInterface) error { return errors.New("OE0101: bad") }))
	var ce *solo.ChaincodeError
	if _, err := p.Submit(context.Background(), prop("x")); !errors.As(err, &ce) {
		t.Fatalf("chaincode error became %v", err)
	}
}

// TestEventStreamStoreFailure: a store failure mid-stream ends Events with
// the store's error.
func TestEventStreamStoreFailure(t *testing.T) {
	p, fs := failingPeer(t, errCC(func(stub shim.ChaincodeStubInterface) error { return stub.SetEvent("e", []byte("x")) }))
	for range 3 {
		if _, err := p.Submit(context.Background(), prop("x")); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	var last error
	for _, err := range p.Events(context.Background(), "ch", 0) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			set(&fs.events, fmt.Errorf("connection reset: %w", store.ErrUnavailable))
		}
	}
	if n != 3 || !errors.Is(last, store.ErrUnavailable) {
		t.Fatalf("%d events, then %v; want 3 then ErrUnavailable", n, last)
	}
}

// TestConflictingTransactionsQueue: 64 transactions that all update one
// key succeed with only 6 retries each, because those that conflicted
// re-execute one at a time instead of colliding again; none is lost.
func TestConflictingTransactionsQueue(t *testing.T) {
	const callers = 64
	var first sync.WaitGroup // the first executions all read before any commits
	first.Add(callers)
	var runs atomic.Int32
	incr := errCC(func(stub shim.ChaincodeStubInterface) error {
		v, err := stub.GetState("n")
		if err != nil {
			return err
		}
		if runs.Add(1) <= callers {
			first.Done()
			first.Wait()
		} else {
			time.Sleep(time.Millisecond) // some work, so that retries overlap
		}
		n := 0
		if v != nil {
			fmt.Sscan(string(v), &n)
		}
		return stub.PutState("n", []byte(fmt.Sprint(n+1)))
	})
	p := newPeer(t, incr, solo.WithMaxRetries(6))
	start := make(chan struct{})
	errs := make(chan error, callers)
	for range callers {
		go func() {
			<-start
			_, err := p.Submit(context.Background(), prop("incr"))
			errs <- err
		}()
	}
	close(start)
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, _ := p.Store(context.Background(), "ch")
	rd, _ := st.Begin(context.Background())
	defer rd.Close()
	kv, _ := rd.Get(context.Background(), "n")
	if string(kv.Value) != fmt.Sprint(callers) {
		t.Fatalf("counter = %s, want %d", kv.Value, callers)
	}
}

// TestReadConflictRetried: a read that the store refuses as a conflict (a
// stale snapshot) re-executes the transaction, as a commit conflict does.
func TestReadConflictRetried(t *testing.T) {
	var fs *failingStore
	runs := 0
	p, fs := failingPeer(t, errCC(func(stub shim.ChaincodeStubInterface) error {
		runs++
		_, err := stub.GetState("k")
		if err != nil {
			set(&fs.reads, nil) // the next execution reads a fresh snapshot
			return fmt.Errorf("OE0000: internal: %v", err)
		}
		return stub.PutState("k", []byte("v"))
	}))
	set(&fs.reads, fmt.Errorf("snapshot too old: %w", store.ErrConflict))
	res, err := p.Submit(context.Background(), prop("x"))
	if err != nil || runs != 2 || res.Attempts != 2 {
		t.Fatalf("result %+v, %v after %d runs; want success at the second run", res, err, runs)
	}
}
