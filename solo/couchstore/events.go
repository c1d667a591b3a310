package couchstore

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-kivik/kivik/v4"

	"github.com/fedchain/orchestrator/solo/store"
)

// Journal entries per ReadEvents request: the limit of the call plus one
// (the first entry may hold no event after the position asked for), at
// least minEventPage and at most maxEventPage. Only the events of an entry
// travel (see eventQuery), but the server still loads every entry it
// returns, write set included, so a page is no larger than the call needs.
const (
	minEventPage = 2
	maxEventPage = 256
)

// longPollTimeout is how long CouchDB holds a _changes long-poll open (ms).
const longPollTimeout = 60000

// eventsOnly is a journal entry as eventQuery returns it: its id and events,
// without the write set.
type eventsOnly struct {
	ID     string        `json:"_id"`
	Events []commitEvent `json:"e"`
}

// eventQuery is the Mango query of the events of up to n journal entries,
// from commit seq from on. The selector is a range on _id alone, which
// CouchDB serves from its primary index (_all_docs) as a key range, as
// does pouchdb-server; the fields projection keeps the write sets, by far
// the largest part of an entry, on the server.
func eventQuery(from uint64, n int) map[string]any {
	return map[string]any{
		"selector": map[string]any{
			"_id": map[string]any{"$gte": commitID(from), "$lt": commitEnd},
		},
		"sort":   []any{map[string]string{"_id": "asc"}},
		"fields": []string{"_id", "e"},
		"limit":  n,
	}
}

// eventPage is the number of journal entries to ask for to find limit
// events (limit <= 0: all).
func (s *Store) eventPage(limit int) int {
	lo, hi := minEventPage, maxEventPage
	if s.maxEventPage > 0 { // test override
		lo, hi = min(lo, s.maxEventPage), s.maxEventPage
	}
	if limit <= 0 {
		return hi
	}
	return min(max(limit+1, lo), hi)
}

// ReadEvents returns the events with Seq > after, in order, at most limit
// (<= 0: all). Event.Seq is journal seq << 16 | position in the entry.
//
// Events of the entries this process learned since Open come from memory
// (eventRing), after one small request that tells whether another process
// committed since (then this process learns those entries first). Older
// ones are read from the
// journal entries from the one that holds after on, in pages of
// eventPage(limit) entries (readEntries).
func (s *Store) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	s.mu.Lock()
	_, ok := s.ring.read(after, 1)
	ok = ok && !s.noRing
	head := s.head
	s.mu.Unlock()
	if ok {
		// The ring has them up to head: one small request tells whether
		// another process committed after it.
		newer, err := s.exists(ctx, commitID(head+1))
		if err != nil {
			return nil, s.wrap(err, "read events after %d", after)
		}
		if newer {
			if err := s.learnNew(ctx, 0); err != nil {
				return nil, err
			}
		}
		s.mu.Lock()
		out, ok := s.ring.read(after, limit)
		s.mu.Unlock()
		if ok {
			return out, nil
		}
	}
	var (
		out    []store.Event
		newest uint64
	)
	page := s.eventPage(limit)
	start := after >> eventBits // the entry holding event after, if any
	for full := false; !full; {
		entries, err := s.readEntries(ctx, start, page)
		if err != nil {
			return nil, s.wrap(err, "read events after %d", after)
		}
		for _, doc := range entries {
			seq, err := seqOfCommitID(doc.ID)
			if err != nil {
				return nil, s.wrap(err, "read events after %d", after)
			}
			if seq < start {
				return nil, s.errf("read events: journal entry %d out of order (after %d)", seq, start-1)
			}
			start, newest = seq+1, seq
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
		if len(entries) < page {
			break
		}
	}
	if len(out) > 0 {
		s.sawEvent(out[len(out)-1].Seq)
	}
	// Never hand out an event before its writes are visible: learn the
	// entries of other processes (their writes join the overlay).
	if newest > s.getHead() {
		if err := s.lockCtx(ctx); err != nil {
			return nil, err
		}
		_, err := s.catchUp(ctx)
		s.unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readEntries returns the ids and events of up to n journal entries, from
// commit seq from on, in order: through _find (eventQuery), or through
// _all_docs with the whole documents if the server refused that _find
// (for instance because an administrator disabled queries without an
// index); it then keeps to _all_docs.
func (s *Store) readEntries(ctx context.Context, from uint64, n int) ([]eventsOnly, error) {
	if !s.noFind.Load() {
		entries, err := s.scanEntries(s.db.Find(ctx, eventQuery(from, n)))
		switch kivik.HTTPStatus(err) {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		default:
			return entries, err
		}
		entries, err2 := s.readEntriesAllDocs(ctx, from, n)
		if err2 != nil {
			return nil, err // _find's error, the first cause
		}
		s.noFind.Store(true)
		return entries, nil
	}
	return s.readEntriesAllDocs(ctx, from, n)
}

// readEntriesAllDocs is readEntries through _all_docs.
func (s *Store) readEntriesAllDocs(ctx context.Context, from uint64, n int) ([]eventsOnly, error) {
	return s.scanEntries(s.db.AllDocs(ctx, kivik.Params(map[string]any{
		"startkey":      commitID(from),
		"endkey":        commitEnd,
		"inclusive_end": false,
		"include_docs":  true,
		"limit":         n,
	})))
}

// scanEntries decodes the documents of rs as eventsOnly, in order, and
// closes rs.
func (s *Store) scanEntries(rs *kivik.ResultSet) ([]eventsOnly, error) {
	defer rs.Close()
	var out []eventsOnly
	for rs.Next() {
		var doc eventsOnly
		if err := rs.ScanDoc(&doc); err != nil {
			return nil, err
		}
		if len(out) > 0 && doc.ID <= out[len(out)-1].ID {
			return nil, fmt.Errorf("journal entry %q after %q: out of order", doc.ID, out[len(out)-1].ID)
		}
		out = append(out, doc)
	}
	return out, rs.Err()
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

// eventRingBytes bounds the events kept in memory.
const eventRingBytes = 32 << 20

// eventRing holds the events of the journal entries (from, from+len] that
// this process learned, so that event reads of them cost no request. The
// caller holds Store.mu.
type eventRing struct {
	from    uint64          // entries after from are here
	entries [][]commitEvent // entry from+1+i
	bytes   int
}

func (r *eventRing) add(seq uint64, events []commitEvent) {
	if seq != r.from+uint64(len(r.entries))+1 {
		// Not contiguous (cannot happen: entries are learned in order);
		// start again from here.
		r.from, r.entries, r.bytes = seq-1, nil, 0
	}
	r.entries = append(r.entries, events)
	for _, e := range events {
		r.bytes += 64 + len(e.TxID) + len(e.Name) + len(e.Payload)
	}
	for len(r.entries) > 1 && r.bytes > eventRingBytes {
		for _, e := range r.entries[0] {
			r.bytes -= 64 + len(e.TxID) + len(e.Name) + len(e.Payload)
		}
		r.entries[0] = nil
		r.entries = r.entries[1:]
		r.from++
	}
}

// read returns the events after position after, at most limit (<= 0: all),
// if the ring holds every entry from the one holding after on; ok is
// false otherwise (the server has them).
func (r *eventRing) read(after uint64, limit int) (out []store.Event, ok bool) {
	start := after >> eventBits // the entry holding after, if any
	if start <= r.from && r.from > 0 {
		return nil, false // entries up to from are only on the server
	}
	first := uint64(0)
	if start > r.from {
		first = start - r.from - 1
	}
	for i := first; i < uint64(len(r.entries)); i++ {
		seq := r.from + 1 + i
		for j, e := range r.entries[i] {
			es := eventSeq(seq, j)
			if es <= after {
				continue
			}
			out = append(out, store.Event{Seq: es, TxID: e.TxID, Name: e.Name, Payload: e.Payload})
			if limit > 0 && len(out) >= limit {
				return out, true
			}
		}
	}
	return out, true
}
