package couchstore

import (
	"context"

	"github.com/go-kivik/kivik/v4"

	"github.com/fedchain/orchestrator/solo/store"
)

// eventPage is how many journal entries ReadEvents reads per request (an
// entry holds its group's write set too, up to maxGroupBytes).
const eventPage = 16

// longPollTimeout is how long CouchDB holds a _changes long-poll open (ms).
const longPollTimeout = 60000

// ReadEvents returns the events with Seq > after, in order, at most limit
// (<= 0: all). Event.Seq is journal seq << 16 | position in the entry.
func (s *Store) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	var (
		out    []store.Event
		newest uint64
	)
	start := after >> eventBits // the entry holding event after, if any
	for {
		rs := s.db.AllDocs(ctx, kivik.Params(map[string]any{
			"startkey":      commitID(start),
			"endkey":        commitEnd,
			"inclusive_end": false,
			"include_docs":  true,
			"limit":         eventPage,
		}))
		n, full := 0, false
		for rs.Next() {
			n++
			id, err := rs.ID()
			if err != nil {
				rs.Close()
				return nil, s.wrap(err, "read events")
			}
			seq, err := seqOfCommitID(id)
			if err != nil {
				rs.Close()
				return nil, s.wrap(err, "read events")
			}
			newest = seq
			var doc commitDoc
			if err := rs.ScanDoc(&doc); err != nil {
				rs.Close()
				return nil, s.wrap(err, "decode journal entry %d", seq)
			}
			for i, e := range doc.Events {
				es := eventSeq(seq, i)
				if es <= after {
					continue
				}
				out = append(out, store.Event{Seq: es, TxID: e.TxID, Name: e.Name, Payload: e.Payload})
				if limit > 0 && len(out) >= limit {
					full = true
					break
				}
			}
			if full {
				break
			}
		}
		err := rs.Err()
		rs.Close()
		if err != nil {
			return nil, s.wrap(err, "read events after %d", after)
		}
		if full || n < eventPage {
			break
		}
		start = newest + 1
	}
	if len(out) > 0 {
		s.sawEvent(out[len(out)-1].Seq)
	}
	// Never hand out an event before its writes are visible: complete a
	// commit of another process that may still be applying.
	if newest > s.getHead() {
		s.commitMu.Lock()
		_, err := s.rollForward(ctx)
		s.commitMu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WaitEvents blocks until an event with Seq > after exists. Local commits
// wake it directly; commits of other processes through a long-poll on
// _changes for the next journal id.
func (s *Store) WaitEvents(ctx context.Context, after uint64) error {
	for {
		s.mu.Lock()
		closed, wake, known := s.closed, s.wake, s.event
		s.mu.Unlock()
		if closed {
			return store.ErrClosed
		}
		if known > after {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Take the feed position before looking, so that a commit landing
		// between the look and the long-poll is not missed.
		since, err := s.changesNow(ctx)
		if err != nil {
			return err
		}
		evs, err := s.ReadEvents(ctx, after, 1)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			return nil
		}
		next := max(s.getHead(), after>>eventBits) + 1
		pollCtx, cancel := context.WithCancel(ctx)
		polled := make(chan error, 1)
		go func() { polled <- s.longPoll(pollCtx, since, commitID(next)) }()
		select {
		case <-wake:
			cancel()
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		case err := <-polled:
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
		}
	}
}

// changesNow returns the database's current _changes position.
func (s *Store) changesNow(ctx context.Context) (string, error) {
	ch := s.db.Changes(ctx, kivik.Params(map[string]any{"since": "now"}))
	defer ch.Close()
	for ch.Next() {
	}
	if err := ch.Err(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", s.wrap(err, "read _changes position")
	}
	meta, err := ch.Metadata()
	if err != nil {
		return "", s.wrap(err, "read _changes position")
	}
	return meta.LastSeq, nil
}

// longPoll returns when document id changes after since, or after
// longPollTimeout, or when ctx ends.
func (s *Store) longPoll(ctx context.Context, since, id string) error {
	ch := s.db.Changes(ctx, kivik.Params(map[string]any{
		"feed":    "longpoll",
		"since":   since,
		"filter":  "_doc_ids",
		"doc_ids": []string{id},
		"timeout": longPollTimeout,
		"limit":   1,
	}))
	defer ch.Close()
	for ch.Next() {
	}
	if err := ch.Err(); err != nil {
		return s.wrap(err, "wait for journal entry %s", id)
	}
	return nil
}
