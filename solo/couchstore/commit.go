package couchstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/fedchain/orchestrator/solo/store"
)

// commitDoc is the body of a journal entry ("c" + seq): one commit of a
// group of transactions. Creating it is the commit point.
type commitDoc struct {
	// TxIDs are the transactions of the group, in commit order.
	TxIDs []string `json:"tx,omitempty"`
	// Writes is the merged write set (the last write of a key wins).
	Writes []commitWrite `json:"w,omitempty"`
	// Events are the group's events in commit order; the i-th (from 0) has
	// Seq eventSeq(seq, i).
	Events []commitEvent `json:"e,omitempty"`
	// Nonce tells the writer its own entry when the answer to its PUT was
	// lost.
	Nonce string `json:"n,omitempty"`
}

// commitWrite is one write of a journal entry. ID is the state document id
// (printable ASCII, so the journal never depends on how JSON carries odd
// characters).
type commitWrite struct {
	ID     string `json:"k"`
	Value  []byte `json:"v,omitempty"`
	Delete bool   `json:"d,omitempty"`
}

// commitEvent is one chaincode event of a journal entry.
type commitEvent struct {
	TxID    string `json:"tx,omitempty"`
	Name    string `json:"n"`
	Payload []byte `json:"p,omitempty"`
}

// stateWrite is a state document as sent to _bulk_docs.
type stateWrite struct {
	ID      string `json:"_id"`
	Rev     string `json:"_rev,omitempty"`
	Deleted bool   `json:"_deleted,omitempty"`
	Seq     uint64 `json:"s"`
	Value   []byte `json:"v,omitempty"`
}

const (
	// eventBits is how many low bits of Event.Seq number the events of one
	// journal entry: Event.Seq = commit seq << eventBits | (index+1).
	eventBits = 16
	// maxGroup bounds the transactions of one journal entry (< 1<<eventBits).
	maxGroup = 512
	// maxGroupBytes bounds the values of one journal entry, well below
	// CouchDB's default max_document_size (8 MB); a larger single batch
	// still goes alone.
	maxGroupBytes = 2 << 20
	// maxApplyRounds bounds the re-read/re-write rounds of one application;
	// each round only repeats documents that another writer changed
	// meanwhile.
	maxApplyRounds = 100
	// groupTimeout bounds the CouchDB work of committing one group.
	groupTimeout = 2 * time.Minute
)

// eventSeq is the Event.Seq of the i-th event (from 0) of commit seq.
func eventSeq(seq uint64, i int) uint64 { return seq<<eventBits | uint64(i+1) }

// pending is one Commit call waiting for its group.
type pending struct {
	b    *store.Batch
	size int
	done chan error // buffered, receives the result once
}

// Commit validates b and commits it through the journal (see the package
// doc). Concurrent calls are grouped into one journal entry.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	p := &pending{b: b, done: make(chan error, 1)}
	seen := make(map[string]bool, len(b.Writes))
	for _, w := range b.Writes {
		if w.Key == "" {
			return s.errf("tx %s: empty key", b.TxID)
		}
		if seen[w.Key] {
			return s.errf("tx %s: key %q written twice in one batch", b.TxID, w.Key)
		}
		seen[w.Key] = true
		p.size += len(w.Key) + len(w.Value)
	}
	if b.Event != nil {
		p.size += len(b.Event.Name) + len(b.Event.Payload)
	}
	s.qmu.Lock()
	s.queue = append(s.queue, p)
	s.qmu.Unlock()

	for {
		s.commitMu.Lock()
		select {
		case err := <-p.done: // a previous leader committed our batch
			s.commitMu.Unlock()
			return err
		default:
		}
		// Lead: take the front of the queue up to the group limits. p may
		// be left for the next round when the queue is long.
		s.qmu.Lock()
		n, size := 0, 0
		for n < len(s.queue) && n < s.groupLimit() && (n == 0 || size+s.queue[n].size <= maxGroupBytes) {
			size += s.queue[n].size
			n++
		}
		group := slices.Clone(s.queue[:n])
		s.queue = slices.Delete(s.queue, 0, n)
		s.qmu.Unlock()
		// The group holds other callers' batches: the leader's
		// cancellation must not fail them, so the work is bounded by
		// groupTimeout instead.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
		s.commitGroup(gctx, group)
		cancel()
		s.commitMu.Unlock()
	}
}

// groupLimit is maxGroup, or the test override.
func (s *Store) groupLimit() int {
	if s.maxGroup > 0 {
		return s.maxGroup
	}
	return maxGroup
}

// commitGroup commits the batches of group, one journal entry for all that
// validate, and sends each its result. The caller holds commitMu.
func (s *Store) commitGroup(ctx context.Context, group []*pending) {
	finish := func(p *pending, err error) { p.done <- err }
	live := group
	for {
		if s.isClosed() {
			for _, p := range live {
				finish(p, store.ErrClosed)
			}
			return
		}
		if err := ctx.Err(); err != nil {
			for _, p := range live {
				finish(p, err)
			}
			return
		}
		seq := s.getHead() + 1
		v, err := s.validateGroup(ctx, seq, live)
		if err != nil {
			for _, p := range live {
				finish(p, err)
			}
			return
		}
		var accepted []*pending
		for i, p := range live {
			if v.conflicts[i] != nil {
				finish(p, v.conflicts[i])
			} else {
				accepted = append(accepted, p)
			}
		}
		live = accepted
		if len(live) == 0 {
			return
		}
		doc := v.doc
		if len(doc.Writes) == 0 && len(doc.Events) == 0 {
			// Only validations: they hold if nobody committed meanwhile.
			taken, err := s.exists(ctx, commitID(seq))
			if err == nil && !taken {
				for _, p := range live {
					finish(p, nil)
				}
				return
			}
			if err != nil {
				for _, p := range live {
					finish(p, s.wrap(err, "check journal entry %d", seq))
				}
				return
			}
		} else {
			doc.Nonce = rand.Text()
			_, err := s.db.Put(ctx, commitID(seq), doc)
			committed, taken := err == nil, kivik.HTTPStatus(err) == http.StatusConflict
			if !committed && !taken {
				// The answer may have been lost after the entry landed.
				nonce, cerr := s.entryNonce(ctx, seq)
				switch {
				case cerr != nil:
					err = s.wrap(err, "write journal entry %d (outcome unknown)", seq)
				case nonce == doc.Nonce:
					committed = true
				case nonce != "":
					taken = true
				default:
					err = s.wrap(err, "write journal entry %d (not committed)", seq)
				}
			}
			if committed {
				err := s.hookAfterJournal(seq)
				if err == nil {
					if err = s.applyRetrying(ctx, seq, doc.Writes, v.written); err != nil {
						err = s.wrap(err, "commit %d is durable but not applied yet "+
							"(the next commit or Open completes it)", seq)
					}
				}
				if err == nil {
					if len(doc.Events) > 0 {
						s.sawEvent(eventSeq(seq, len(doc.Events)-1))
					}
					s.setHead(seq)
				}
				for _, p := range live {
					finish(p, err)
				}
				return
			}
			if !taken {
				for _, p := range live {
					finish(p, fmt.Errorf("tx %s: %w", p.b.TxID, err))
				}
				return
			}
		}
		// Another process took seq: catch up and validate again.
		if _, err := s.rollForward(ctx); err != nil {
			for _, p := range live {
				finish(p, err)
			}
			return
		}
	}
}

// groupValidation is the outcome of validating a group for commit seq.
type groupValidation struct {
	conflicts []error             // per batch: nil, or an ErrConflict
	doc       commitDoc           // journal entry of the accepted batches
	written   map[string]docState // state of the written documents, as read
}

// overlayEntry is a write of an earlier batch of the same group.
type overlayEntry struct {
	value   []byte
	deleted bool
}

// validateGroup validates the batches in order, each against the committed
// state plus the writes of the batches accepted before it in the group.
func (s *Store) validateGroup(ctx context.Context, seq uint64, group []*pending) (*groupValidation, error) {
	var ids []string
	index := map[string]int{}
	add := func(id string) {
		if _, ok := index[id]; !ok {
			index[id] = len(ids)
			ids = append(ids, id)
		}
	}
	for _, p := range group {
		for _, r := range p.b.Reads {
			add(stateID(r.Key))
		}
		for _, w := range p.b.Writes {
			add(stateID(w.Key))
		}
	}
	states, err := s.fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	v := &groupValidation{conflicts: make([]error, len(group)), written: map[string]docState{}}
	overlay := map[string]overlayEntry{}
	newVersion := version(seq)
	versionOf := func(key string) store.Version {
		if e, ok := overlay[key]; ok {
			if e.deleted {
				return ""
			}
			return newVersion
		}
		return states[index[stateID(key)]].kv(key).Version
	}
	written := map[string]int{} // id -> index in doc.Writes
	for gi, p := range group {
		b := p.b
		var conflict error
		for _, r := range b.Reads {
			if got := versionOf(r.Key); got != r.Version {
				conflict = fmt.Errorf("couchstore: channel %s: tx %s: key %q is at version %q, read %q: %w",
					s.channel, b.TxID, r.Key, got, r.Version, store.ErrConflict)
				break
			}
		}
		for _, rr := range b.Ranges {
			if conflict != nil {
				break
			}
			got, err := s.scanOverlay(ctx, rr.Start, rr.End, len(rr.Results)+1, overlay, newVersion)
			if err != nil {
				return nil, err
			}
			if !sameRange(got, rr.Results) {
				conflict = fmt.Errorf("couchstore: channel %s: tx %s: range [%q, %q) changed: %w",
					s.channel, b.TxID, rr.Start, rr.End, store.ErrConflict)
			}
		}
		if conflict != nil {
			v.conflicts[gi] = conflict
			continue
		}
		v.doc.TxIDs = append(v.doc.TxIDs, b.TxID)
		for _, w := range b.Writes {
			id := stateID(w.Key)
			cw := commitWrite{ID: id, Delete: w.Delete}
			if !w.Delete {
				cw.Value = w.Value
			}
			if i, ok := written[id]; ok {
				v.doc.Writes[i] = cw
			} else {
				written[id] = len(v.doc.Writes)
				v.doc.Writes = append(v.doc.Writes, cw)
			}
			overlay[w.Key] = overlayEntry{value: w.Value, deleted: w.Delete}
			v.written[id] = states[index[id]]
		}
		if b.Event != nil {
			v.doc.Events = append(v.doc.Events, commitEvent{TxID: b.Event.TxID, Name: b.Event.Name, Payload: b.Event.Payload})
		}
	}
	if len(v.doc.TxIDs) > 0 && len(v.doc.Writes) == 0 && len(v.doc.Events) == 0 {
		v.doc.TxIDs = nil // validations only: no journal entry
	}
	return v, nil
}

// scanOverlay scans [start, end) as it will be once the overlay (writes of
// earlier batches of the group, at version newVersion) is applied, at most
// limit keys.
func (s *Store) scanOverlay(ctx context.Context, start, end string, limit int, overlay map[string]overlayEntry, newVersion store.Version) ([]store.KV, error) {
	var inRange []string
	for k := range overlay {
		if k >= start && (end == "" || k < end) {
			inRange = append(inRange, k)
		}
	}
	got, err := s.scan(ctx, start, end, limit+len(inRange))
	if err != nil || len(inRange) == 0 {
		return got, err
	}
	// got holds every committed key up to limit+len(inRange); the overlay
	// removes at most len(inRange) of them, so the first limit of the merge
	// are exact.
	merged := map[string]store.KV{}
	for _, kv := range got {
		merged[kv.Key] = kv
	}
	for _, k := range inRange {
		e := overlay[k]
		if e.deleted {
			delete(merged, k)
			continue
		}
		val := e.value
		if val == nil {
			val = []byte{}
		}
		merged[k] = store.KV{Key: k, Value: val, Version: newVersion}
	}
	keys := slices.Sorted(maps.Keys(merged))
	if len(got) == limit+len(inRange) && len(got) > 0 {
		// Committed keys after the last one read are unknown: cut there.
		last := got[len(got)-1].Key
		keys = slices.DeleteFunc(keys, func(k string) bool { return k > last })
	}
	out := make([]store.KV, 0, min(len(keys), limit))
	for _, k := range keys {
		if len(out) == limit {
			break
		}
		out = append(out, merged[k])
	}
	return out, nil
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

// exists reports whether document id exists (not deleted).
func (s *Store) exists(ctx context.Context, id string) (bool, error) {
	rs := s.db.AllDocs(ctx, kivik.Params(map[string]any{"keys": []string{id}}))
	defer rs.Close()
	found := false
	for rs.Next() {
		var val struct {
			Rev     string `json:"rev"`
			Deleted bool   `json:"deleted"`
		}
		if err := rs.ScanValue(&val); err != nil {
			return false, err
		}
		found = val.Rev != "" && !val.Deleted
	}
	return found, rs.Err()
}

// apply writes commit seq's write set into the state documents. It is
// idempotent and safe to run concurrently with other appliers of the same or
// other commits: a document is written only if its "s" is older than seq,
// and conditionally on the revision that showed that. known, if not nil,
// holds a first (possibly stale) read of the documents.
func (s *Store) apply(ctx context.Context, seq uint64, writes []commitWrite, known map[string]docState) error {
	pending := writes
	for round := 0; len(pending) > 0; round++ {
		if round >= maxApplyRounds {
			return s.errf("apply commit %d: %d documents still conflicting after %d rounds", seq, len(pending), round)
		}
		states := make([]docState, len(pending))
		if round == 0 && known != nil {
			for i, w := range pending {
				states[i] = known[w.ID]
			}
		} else {
			ids := make([]string, len(pending))
			for i, w := range pending {
				ids[i] = w.ID
			}
			var err error
			if states, err = s.fetch(ctx, ids); err != nil {
				return err
			}
		}
		var docs []any
		var sent []commitWrite
		for i, w := range pending {
			d := states[i]
			if d.exists && d.seq >= seq {
				continue // this commit or a later one got there first
			}
			if w.Delete {
				if !d.exists {
					continue // absent already
				}
				docs = append(docs, stateWrite{ID: w.ID, Rev: d.rev, Deleted: true, Seq: seq})
				sent = append(sent, w)
				continue
			}
			rev := d.rev
			if d.deleted {
				// Re-creating over a tombstone: unless a later commit
				// deleted the key.
				ts, err := s.tombstoneSeq(ctx, w.ID, d.rev)
				if err != nil {
					return err
				}
				if ts >= seq {
					continue
				}
				// CouchDB 3 re-creates a deleted document only from an
				// update without revision (the tombstone's revision gives
				// 409); pouchdb-server accepts both.
				rev = ""
			}
			docs = append(docs, stateWrite{ID: w.ID, Rev: rev, Seq: seq, Value: w.Value})
			sent = append(sent, w)
		}
		if len(docs) == 0 {
			return nil
		}
		res, err := s.db.BulkDocs(ctx, docs)
		if err != nil {
			return s.wrap(err, "apply commit %d: _bulk_docs", seq)
		}
		if len(res) != len(docs) {
			return s.errf("apply commit %d: _bulk_docs answered %d results for %d documents", seq, len(res), len(docs))
		}
		pending = pending[:0:0]
		for i, r := range res {
			switch {
			case r.Error == nil:
			case kivik.HTTPStatus(r.Error) == http.StatusConflict:
				pending = append(pending, sent[i])
			default:
				return s.wrap(r.Error, "apply commit %d: write %s", seq, sent[i].ID)
			}
		}
	}
	return nil
}

// entryNonce returns the nonce of journal entry seq, "" if it does not
// exist.
func (s *Store) entryNonce(ctx context.Context, seq uint64) (string, error) {
	var doc commitDoc
	err := s.db.Get(ctx, commitID(seq)).ScanDoc(&doc)
	if kivik.HTTPStatus(err) == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return doc.Nonce, nil
}

// applyRetrying is apply, tried again after a short pause when it fails (a
// lost connection): the entry is committed, so finishing it now saves the
// caller an error for a transaction that did commit.
func (s *Store) applyRetrying(ctx context.Context, seq uint64, writes []commitWrite, known map[string]docState) error {
	err := s.apply(ctx, seq, writes, known)
	for _, pause := range []time.Duration{50 * time.Millisecond, 500 * time.Millisecond} {
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(pause)
		err = s.apply(ctx, seq, writes, nil)
	}
	return err
}

// tombstoneSeq returns the "s" kept in the deletion revision rev of id.
func (s *Store) tombstoneSeq(ctx context.Context, id, rev string) (uint64, error) {
	var doc stateDoc
	if err := s.db.Get(ctx, id, kivik.Rev(rev)).ScanDoc(&doc); err != nil {
		return 0, s.wrap(err, "read tombstone %s", id)
	}
	return doc.Seq, nil
}

// rollForward finds the newest journal entry, applies it (only the newest
// can be unapplied: a commit is only created by a process that fully applied
// the one before) and moves head to it. It returns the new head. The caller
// holds commitMu.
func (s *Store) rollForward(ctx context.Context) (uint64, error) {
	rs := s.db.AllDocs(ctx, kivik.Params(map[string]any{
		"descending":   true,
		"startkey":     commitEnd,
		"endkey":       commitPrefix,
		"limit":        1,
		"include_docs": true,
	}))
	defer rs.Close()
	var (
		last uint64
		doc  commitDoc
	)
	for rs.Next() {
		id, err := rs.ID()
		if err != nil {
			return 0, s.wrap(err, "read journal head")
		}
		if last, err = seqOfCommitID(id); err != nil {
			return 0, s.wrap(err, "read journal head")
		}
		if err := rs.ScanDoc(&doc); err != nil {
			return 0, s.wrap(err, "decode journal entry %d", last)
		}
	}
	if err := rs.Err(); err != nil {
		return 0, s.wrap(err, "read journal head")
	}
	head := s.getHead()
	switch {
	case last < head:
		return 0, s.errf("journal head %d is behind commit %d seen before (database recreated?)", last, head)
	case last == head:
		return head, nil
	}
	if err := s.apply(ctx, last, doc.Writes, nil); err != nil {
		return 0, s.wrap(err, "roll forward commit %d", last)
	}
	s.setHead(last)
	return last, nil
}

// hookAfterJournal runs the test hook, if any, between the journal write and
// its application.
func (s *Store) hookAfterJournal(seq uint64) error {
	if s.afterJournal == nil {
		return nil
	}
	return s.afterJournal(seq)
}
