package pebblestore

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/fedchain/orchestrator/solo/store"
)

// ReadEvents returns the durable events after the given position (see
// store.Store).
func (s *Store) ReadEvents(_ context.Context, after uint64, limit int) ([]store.Event, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	last := s.lastEv.Load()
	if after >= last {
		return nil, nil
	}
	var lower, upper [9]byte
	lower[0], upper[0] = spaceEvent, spaceEvent
	binary.BigEndian.PutUint64(lower[1:], after+1)
	// Events of a group being committed may already be in the database;
	// they are not durable yet.
	binary.BigEndian.PutUint64(upper[1:], last+1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower[:], UpperBound: upper[:]})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: read events: %w", err)
	}
	var out []store.Event
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("pebblestore: read events: %w", err)
		}
		e, err := decodeEvent(binary.BigEndian.Uint64(it.Key()[1:]), v)
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, e)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("pebblestore: read events: %w", err)
	}
	return out, nil
}

// WaitEvents blocks until an event after the given position is durable
// (see store.Store).
func (s *Store) WaitEvents(ctx context.Context, after uint64) error {
	for {
		s.wakeMu.Lock()
		wake := s.wake
		s.wakeMu.Unlock()
		if s.lastEv.Load() > after {
			return nil
		}
		select {
		case <-wake:
		case <-s.closedCh:
			return store.ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
