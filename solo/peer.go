package solo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"sync"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/solo/store"
)

// Proposal is one transaction request.
type Proposal struct {
	// Channel selects the channel (and so the store); Fabric's channel-name
	// rules apply: [a-z][a-z0-9.-]*, at most 249 characters.
	Channel string
	// Creator is the identity the chaincode sees (GetCreator, cid).
	Creator Identity
	// Args are the chaincode arguments; for a contractapi chaincode the
	// first is "contract:function" (or "function" for the default contract).
	Args [][]byte
	// Transient is returned by GetTransient; it is never stored.
	Transient map[string][]byte
}

// Result is the outcome of a successful transaction.
type Result struct {
	TxID string
	// Payload is the chaincode response payload.
	Payload []byte
	// Event is the chaincode event the transaction set (committed with it),
	// nil if none. Evaluate never returns an event.
	Event *ChaincodeEvent
	// Attempts is how many times the transaction was executed (1 + the
	// number of MVCC conflicts retried).
	Attempts int
}

// ChaincodeEvent is the event a transaction set with SetEvent.
type ChaincodeEvent struct {
	Name    string
	Payload []byte
}

// Option configures a Peer.
type Option func(*config)

type config struct {
	chaincodeName   string
	maxRetries      int
	totalQueryLimit int
	clock           func() time.Time
}

// WithChaincodeName sets the chaincode name the stub reports (as the
// namespace of query results and in the signed proposal). Default "solo".
func WithChaincodeName(name string) Option {
	return func(c *config) { c.chaincodeName = name }
}

// WithMaxRetries sets how many times Submit re-executes a transaction that
// hit an MVCC conflict before returning ErrConflict. Default 20; 0 disables
// retries.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.maxRetries = max(n, 0) }
}

// WithTotalQueryLimit sets the maximum number of records one range query
// returns, as the peer's ledger.state.totalQueryLimit. Default 100000.
func WithTotalQueryLimit(n int) Option {
	return func(c *config) { c.totalQueryLimit = max(n, 1) }
}

// WithClock sets the clock of transaction timestamps (GetTxTimestamp).
// Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// freeRetries is how many times a conflicting transaction re-executes in
// parallel with the others before it queues for its channel's retry slot:
// light contention resolves in parallel, heavy contention (many callers on
// one plan) one at a time.
const freeRetries = 3

// Peer runs a chaincode over per-channel stores. It is safe for concurrent
// use; transactions run in parallel.
type Peer struct {
	cc     shim.Chaincode
	opener store.Opener
	cfg    config
	ids    identities

	mu       sync.Mutex
	closed   bool
	channels map[string]*channelStore
}

type channelStore struct {
	once sync.Once
	st   store.Store
	err  error
	// retry is held (a one-slot semaphore) by the transaction of the
	// channel that re-executes after a conflict: the transactions that
	// conflicted queue and retry one at a time instead of colliding again
	// (64 callers updating one plan would otherwise exhaust their retries).
	retry chan struct{}
}

// New returns a Peer that runs cc, opening each channel's store with opener
// on first use.
func New(cc shim.Chaincode, opener store.Opener, opts ...Option) *Peer {
	cfg := config{chaincodeName: "solo", maxRetries: 20, totalQueryLimit: 100000, clock: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	return &Peer{cc: cc, opener: opener, cfg: cfg, channels: map[string]*channelStore{}}
}

var channelName = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,248}$`)

// Store returns the store of channel, opening it on first use.
func (p *Peer) Store(ctx context.Context, channel string) (store.Store, error) {
	cs, err := p.channel(ctx, channel)
	if err != nil {
		return nil, err
	}
	return cs.st, nil
}

// channel returns the open channel, opening its store on first use.
func (p *Peer) channel(ctx context.Context, channel string) (*channelStore, error) {
	if !channelName.MatchString(channel) {
		return nil, fmt.Errorf("solo: invalid channel name %q", channel)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	cs, ok := p.channels[channel]
	if !ok {
		cs = &channelStore{retry: make(chan struct{}, 1)}
		p.channels[channel] = cs
	}
	p.mu.Unlock()
	cs.once.Do(func() {
		cs.st, cs.err = p.opener.Open(ctx, channel)
		if cs.err != nil {
			cs.err = fmt.Errorf("solo: open channel %s: %w", channel, cs.err)
		}
	})
	if cs.err != nil {
		p.mu.Lock()
		if p.channels[channel] == cs {
			delete(p.channels, channel) // let a later call retry
		}
		p.mu.Unlock()
		return nil, cs.err
	}
	return cs, nil
}

// Close closes every store the Peer opened. Transactions in flight fail.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	chans := p.channels
	p.channels = nil
	p.mu.Unlock()
	var errs []error
	for _, cs := range chans {
		cs.once.Do(func() {})
		if cs.st != nil {
			errs = append(errs, cs.st.Close())
		}
	}
	return errors.Join(errs...)
}

// Submit executes the proposal and commits it (see the package
// documentation). A chaincode error response gives a *ChaincodeError; a
// conflict that outlived the retries gives an error wrapping ErrConflict;
// in both cases nothing was committed.
func (p *Peer) Submit(ctx context.Context, prop Proposal) (*Result, error) {
	return p.run(ctx, prop, true)
}

// Evaluate executes the proposal against the committed state and returns
// its result without committing anything.
func (p *Peer) Evaluate(ctx context.Context, prop Proposal) (*Result, error) {
	return p.run(ctx, prop, false)
}

func (p *Peer) run(ctx context.Context, prop Proposal, submit bool) (*Result, error) {
	cs, err := p.channel(ctx, prop.Channel)
	if err != nil {
		return nil, err
	}
	st := cs.st
	creator, err := p.ids.serialize(prop.Creator)
	if err != nil {
		return nil, err
	}
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("solo: nonce: %w", err)
	}
	h := sha256.New()
	h.Write(nonce[:])
	h.Write(creator)
	txID := hex.EncodeToString(h.Sum(nil))
	ts := p.cfg.clock()

	queued := false // holds cs.retry
	defer func() {
		if queued {
			<-cs.retry
		}
	}()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		stub, err := newStub(ctx, p, st, txID, prop, creator, nonce[:], ts, !submit)
		if err != nil {
			return nil, err
		}
		resp := p.invoke(stub)
		stub.closeReader()
		err = stub.readError()
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && !errors.Is(err, store.ErrConflict):
			// Whatever the chaincode answered, it answered on a failed
			// read: report the store's failure (nothing was written).
			return nil, fmt.Errorf("solo: tx %s: read the state: %w", txID, err)
		case err == nil:
			if resp.Status >= shim.ERRORTHRESHOLD {
				return nil, &ChaincodeError{TxID: txID, Status: resp.Status, Message: resp.Message}
			}
			res := &Result{TxID: txID, Payload: resp.Payload, Attempts: attempt}
			if !submit {
				return res, nil
			}
			b := stub.batch()
			err = st.Commit(ctx, b)
			if err == nil {
				if b.Event != nil {
					res.Event = &ChaincodeEvent{Name: b.Event.Name, Payload: b.Event.Payload}
				}
				return res, nil
			}
			if !errors.Is(err, store.ErrConflict) {
				return nil, fmt.Errorf("solo: commit tx %s: %w", txID, err)
			}
		}
		// A conflict (at commit, or a read that the store refused because
		// its snapshot is stale): re-execute.
		if attempt > p.cfg.maxRetries {
			return nil, fmt.Errorf("solo: tx %s after %d attempts: %w", txID, attempt, err)
		}
		if !queued && attempt >= min(freeRetries, p.cfg.maxRetries) {
			// Still conflicting: wait for the retry slot, so that the
			// transactions that keep conflicting re-execute one after
			// the other instead of colliding again.
			select {
			case cs.retry <- struct{}{}:
				queued = true
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		// Jittered backoff so that colliding transactions spread out.
		if attempt > 1 {
			d := time.Duration(mrand.IntN(attempt*100)+1) * time.Microsecond
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
}

func (p *Peer) invoke(stub *stub) (resp *peer.Response) {
	defer func() {
		if r := recover(); r != nil {
			resp = &peer.Response{Status: shim.ERROR, Message: fmt.Sprintf("chaincode panic: %v", r)}
		}
	}()
	resp = p.cc.Invoke(stub)
	if resp == nil {
		resp = &peer.Response{Status: shim.ERROR, Message: "chaincode returned a nil response"}
	}
	return resp
}
