// Package memstore is an in-memory implementation of store.Store: fast, not
// durable, meant for tests and for running contracts in-process.
//
// Readers see the live state (no snapshot); commits are validated against
// the read versions, so update transactions stay serializable.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/fedchain/orchestrator/solo/store"
)

type entry struct {
	value   []byte
	version store.Version
}

// Store is an in-memory store.Store for one channel.
type Store struct {
	mu     sync.RWMutex
	keys   sortedKeys
	data   map[string]entry
	seq    uint64 // last committed transaction number
	events []store.Event
	wake   chan struct{} // closed and replaced on each event append or Close
	closed bool
}

// New returns an empty Store.
func New() *Store {
	return &Store{data: map[string]entry{}, wake: make(chan struct{})}
}

// Opener returns a store.Opener that keeps one Store per channel for its own
// lifetime: reopening a channel after Close gives back its state.
func Opener() store.Opener {
	var mu sync.Mutex
	stores := map[string]*Store{}
	return store.OpenerFunc(func(_ context.Context, channel string) (store.Store, error) {
		mu.Lock()
		defer mu.Unlock()
		s, ok := stores[channel]
		if !ok {
			s = New()
			stores[channel] = s
		}
		s.mu.Lock()
		s.closed = false
		s.mu.Unlock()
		return s, nil
	})
}

// Begin returns a Reader on the live state.
func (s *Store) Begin(context.Context) (store.Reader, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	return &reader{s: s}, nil
}

type reader struct {
	s      *Store
	closed bool
}

func (r *reader) Get(_ context.Context, key string) (store.KV, error) {
	if r.closed {
		return store.KV{}, store.ErrClosed
	}
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	return r.s.get(key), nil
}

func (s *Store) get(key string) store.KV {
	e, ok := s.data[key]
	if !ok {
		return store.KV{Key: key}
	}
	return store.KV{Key: key, Value: slices.Clone(e.value), Version: e.version}
}

func (r *reader) GetMany(_ context.Context, keys []string) ([]store.KV, error) {
	if r.closed {
		return nil, store.ErrClosed
	}
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	out := make([]store.KV, len(keys))
	for i, k := range keys {
		out[i] = r.s.get(k)
	}
	return out, nil
}

func (r *reader) Scan(_ context.Context, start, end string, limit int) ([]store.KV, error) {
	if r.closed {
		return nil, store.ErrClosed
	}
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	return r.s.scan(start, end, limit), nil
}

func (s *Store) scan(start, end string, limit int) []store.KV {
	var out []store.KV
	s.keys.ascend(start, func(k string) bool {
		if (end != "" && k >= end) || (limit > 0 && len(out) >= limit) {
			return false
		}
		out = append(out, s.get(k))
		return true
	})
	return out
}

// Snapshot returns 0: the memory store validates every batch by re-reading
// its state, it does not number snapshots.
func (r *reader) Snapshot() uint64 { return 0 }

func (r *reader) Close() error {
	r.closed = true
	return nil
}

// Commit validates b and applies it atomically (see store.Store).
func (s *Store) Commit(_ context.Context, b *store.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	for _, r := range b.Reads {
		if s.data[r.Key].version != r.Version {
			return fmt.Errorf("tx %s: key %q changed: %w", b.TxID, r.Key, store.ErrConflict)
		}
	}
	for _, rr := range b.Ranges {
		got := s.scan(rr.Start, rr.End, len(rr.Results)+1)
		if !sameRange(got, rr.Results) {
			return fmt.Errorf("tx %s: range [%q, %q) changed: %w", b.TxID, rr.Start, rr.End, store.ErrConflict)
		}
	}
	if len(b.Writes) == 0 && b.Event == nil {
		return nil
	}
	s.seq++
	v := store.Version(strconv.FormatUint(s.seq, 10))
	for _, w := range b.Writes {
		_, exists := s.data[w.Key]
		if w.Delete {
			if exists {
				delete(s.data, w.Key)
				s.keys.delete(w.Key)
			}
			continue
		}
		if !exists {
			s.keys.insert(w.Key)
		}
		s.data[w.Key] = entry{value: slices.Clone(w.Value), version: v}
	}
	if b.Event != nil {
		e := *b.Event
		e.Seq = uint64(len(s.events)) + 1
		e.Payload = slices.Clone(e.Payload)
		s.events = append(s.events, e)
		close(s.wake)
		s.wake = make(chan struct{})
	}
	return nil
}

func sameRange(got []store.KV, want []store.KeyVersion) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Key != want[i].Key || got[i].Version != want[i].Version {
			return false
		}
	}
	return true
}

// ReadEvents returns the events after the given position (see store.Store).
func (s *Store) ReadEvents(_ context.Context, after uint64, limit int) ([]store.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	if after >= uint64(len(s.events)) {
		return nil, nil
	}
	evs := s.events[after:]
	if limit > 0 && len(evs) > limit {
		evs = evs[:limit]
	}
	out := make([]store.Event, len(evs))
	for i, e := range evs {
		e.Payload = slices.Clone(e.Payload)
		out[i] = e
	}
	return out, nil
}

// WaitEvents blocks until an event after the given position exists (see
// store.Store).
func (s *Store) WaitEvents(ctx context.Context, after uint64) error {
	for {
		s.mu.RLock()
		closed, n, wake := s.closed, uint64(len(s.events)), s.wake
		s.mu.RUnlock()
		if closed {
			return store.ErrClosed
		}
		if n > after {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close marks the store closed and wakes waiters. The data stays in memory
// for the Opener that created it.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.wake)
		s.wake = make(chan struct{})
	}
	return nil
}
