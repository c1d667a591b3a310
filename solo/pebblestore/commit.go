package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/fedchain/orchestrator/solo/store"
)

type request struct {
	b *store.Batch
	// keys are b.Writes' database keys and vals their stored values (nil for
	// deletes) with room for the version in front. The committing goroutine
	// prepares them before queueing, so that the committer, which every
	// commit waits for, only stamps the version.
	keys [][]byte
	vals [][]byte
	bad  error // why the batch cannot be written at all
	err  chan error
}

func newRequest(b *store.Batch) *request {
	req := &request{b: b, err: make(chan error, 1)}
	size := 0
	for _, w := range b.Writes {
		if w.Key == "" {
			req.bad = fmt.Errorf("pebblestore: tx %s: empty key", b.TxID)
			return req
		}
		size += 1 + len(w.Key)
		if !w.Delete {
			size += versionLen + len(w.Value)
		}
	}
	// One allocation for all keys and values: the Pebble batch copies them,
	// and they die with the request.
	buf := make([]byte, size)
	req.keys = make([][]byte, len(b.Writes))
	req.vals = make([][]byte, len(b.Writes))
	for i, w := range b.Writes {
		n := 1 + len(w.Key)
		k := buf[:n:n]
		buf = buf[n:]
		k[0] = spaceState
		copy(k[1:], w.Key)
		req.keys[i] = k
		if w.Delete {
			continue
		}
		n = versionLen + len(w.Value)
		v := buf[:n:n]
		buf = buf[n:]
		copy(v[versionLen:], w.Value)
		req.vals[i] = v
	}
	return req
}

// Commit validates and applies b through the group committer (see the
// package documentation and store.Store).
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if len(b.Writes) == 0 && b.Event == nil {
		r, err := s.begin()
		if err != nil {
			return err
		}
		defer r.Close()
		return validate(r.sn.s, b)
	}
	req := newRequest(b)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	s.reqs <- req
	s.closeMu.RUnlock()
	// Once queued, the batch will be committed or rejected; wait for the
	// outcome even if ctx ends, so that the caller never mistakes a
	// committed batch for a failed one.
	return <-req.err
}

func (s *Store) committer() {
	defer close(s.done)
	group := make([]*request, 0, s.opts.maxGroup)
	for req := range s.reqs {
		group = append(group[:0], req)
	fill:
		for len(group) < s.opts.maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break fill
				}
				group = append(group, r)
			default:
				break fill
			}
		}
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*request) {
	results := make([]error, len(group))
	size := 64
	for _, req := range group {
		for i := range req.keys {
			size += len(req.keys[i]) + len(req.vals[i]) + 16
		}
	}
	batch := s.db.NewBatchWithSize(size)
	defer batch.Close()
	durable, txNum, lastEv := s.txNum, s.txNum, s.lastEv.Load()
	err := func() error {
		for i, req := range group {
			if req.bad != nil {
				results[i] = req.bad
				continue
			}
			if err := s.validate(req.b, durable); err != nil {
				results[i] = err
				continue
			}
			txNum++
			s.win.add(txNum, req.b.Writes)
			var ver [versionLen]byte
			binary.BigEndian.PutUint64(ver[:], txNum)
			for j, k := range req.keys {
				var err error
				if v := req.vals[j]; v != nil {
					copy(v, ver[:])
					err = batch.Set(k, v, nil)
				} else {
					err = batch.Delete(k, nil)
				}
				if err != nil {
					return fmt.Errorf("tx %s: write %q: %w", req.b.TxID, k[1:], err)
				}
			}
			if e := req.b.Event; e != nil {
				lastEv++
				var ek [9]byte
				ek[0] = spaceEvent
				binary.BigEndian.PutUint64(ek[1:], lastEv)
				if err := batch.Set(ek[:], encodeEvent(e), nil); err != nil {
					return fmt.Errorf("tx %s: append event: %w", req.b.TxID, err)
				}
			}
		}
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], txNum)
		if err := batch.Set(keyTxNum, n[:], nil); err != nil {
			return err
		}
		return batch.Commit(s.sync)
	}()
	if err != nil {
		// Nothing of the group was written; fail every batch that would
		// have been applied.
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("pebblestore: commit: %w", err)
			}
		}
		s.win.reset(durable)
	} else {
		s.txNum = txNum
		s.win.committed(txNum)
		// The cache must drop what the group changed before a Reader can
		// take the new snapshot (see readCache).
		s.cache.apply(group, results, txNum)
		s.publish(txNum, lastEv)
	}
	for i, req := range group {
		req.err <- results[i]
	}
}

// validate checks b against the state as of the last durable transaction
// plus the batches of the group accepted so far: from the window when it
// covers b's snapshot, else from the database.
func (s *Store) validate(b *store.Batch, durable uint64) error {
	var what string
	var ok bool
	if s.win.covers(b.Snapshot) {
		what, ok = s.win.validate(b)
	} else if what, ok = s.win.validatePending(b, durable); ok {
		return validate(s.db, b)
	}
	if !ok {
		return fmt.Errorf("tx %s: %q changed: %w", b.TxID, what, store.ErrConflict)
	}
	return nil
}

// publish makes the group just committed (durable) visible to new readers
// and to event waiters.
func (s *Store) publish(txNum, lastEv uint64) {
	next := &snapshot{s: s.db.NewSnapshot(), txNum: txNum, refs: 1}
	s.snapMu.Lock()
	old := s.snap
	s.snap = next
	s.snapMu.Unlock()
	s.release(old)
	if lastEv != s.lastEv.Load() {
		s.lastEv.Store(lastEv)
		s.wakeMu.Lock()
		close(s.wake)
		s.wake = make(chan struct{})
		s.wakeMu.Unlock()
	}
}

func validate(r pebble.Reader, b *store.Batch) error {
	var buf []byte
	for _, rd := range b.Reads {
		buf = append(append(buf[:0], spaceState), rd.Key...)
		var cur store.Version
		v, closer, err := r.Get(buf)
		switch {
		case errors.Is(err, pebble.ErrNotFound):
		case err != nil:
			return fmt.Errorf("pebblestore: tx %s: validate: %w", b.TxID, err)
		default:
			if len(v) >= versionLen {
				cur = store.Version(v[:versionLen])
			}
			closer.Close()
		}
		if cur != rd.Version {
			return fmt.Errorf("tx %s: key %q changed: %w", b.TxID, rd.Key, store.ErrConflict)
		}
	}
	for _, rr := range b.Ranges {
		if err := validateRange(r, b.TxID, rr); err != nil {
			return err
		}
	}
	return nil
}

func validateRange(r pebble.Reader, txID string, rr store.RangeRead) error {
	lower, upper := stateBounds(rr.Start, rr.End)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblestore: tx %s: validate: %w", txID, err)
	}
	i := 0
	same := true
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("pebblestore: tx %s: validate: %w", txID, err)
		}
		if i >= len(rr.Results) || string(it.Key()[1:]) != rr.Results[i].Key ||
			len(v) < versionLen || string(v[:versionLen]) != string(rr.Results[i].Version) {
			same = false
			break
		}
		i++
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("pebblestore: tx %s: validate: %w", txID, err)
	}
	if !same || i != len(rr.Results) {
		return fmt.Errorf("tx %s: range [%q, %q) changed: %w", txID, rr.Start, rr.End, store.ErrConflict)
	}
	return nil
}
