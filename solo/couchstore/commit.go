package couchstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
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
	// Writes is the merged write set (the last write of a key wins), one
	// base64 string of binary records in JSON (see writeSet).
	Writes writeSet `json:"w,omitempty"`
	// Events are the group's events in commit order; the i-th (from 0) has
	// Seq eventSeq(seq, i).
	Events []commitEvent `json:"e,omitempty"`
	// Nonce tells the writer its own entry when the answer to its PUT was
	// lost.
	Nonce string `json:"n,omitempty"`
	// Applied is the writer's applied watermark when it wrote the entry:
	// every entry up to it is applied to the state documents. Open rolls
	// forward the entries after the newest entry's watermark.
	Applied *uint64 `json:"a,omitempty"`
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
	// maxEntryBytes bounds the encoded size of one journal entry: CouchDB
	// refuses documents over max_document_size (8 MB by default) with 413.
	// Values travel in base64 (4/3 of their size).
	maxEntryBytes = 8_000_000
	// maxApplyRounds bounds the re-read/re-write rounds of one application;
	// each round only repeats documents that another writer changed
	// meanwhile.
	maxApplyRounds = 100
	// groupTimeout bounds the CouchDB work of committing one group.
	groupTimeout = 2 * time.Minute
	// maxUnapplied and maxUnappliedBytes bound the journal entries this
	// process has committed or learned but not yet applied, and their
	// write sets' bytes: a commit waits for the applier beyond them,
	// which bounds the overlay and what a crash leaves to roll forward.
	// They are far above what the applier falls behind by in a burst (one
	// round of a large backlog can take seconds on a busy server), so
	// that callers never wait for it in normal operation: the overlay
	// serves what is not applied yet.
	maxUnapplied      = 8192
	maxUnappliedBytes = 64 << 20
)

// entryBytes estimates the encoded size of a journal entry holding a batch
// of raw size n (keys and values) with w writes.
func entryBytes(n, w int) int { return n/3*4 + 64*w + 512 }

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
	if n := entryBytes(p.size, len(b.Writes)); n > maxEntryBytes {
		return s.errf("tx %s: %d writes of %d bytes make a journal entry of about %d bytes, over the %d that one CouchDB document may hold (max_document_size): nothing written",
			b.TxID, len(b.Writes), p.size, n, maxEntryBytes)
	}
	s.qmu.Lock()
	s.queue = append(s.queue, p)
	s.qmu.Unlock()

	for {
		if err := s.lockCtx(ctx); err != nil {
			// Leave the queue if no leader took us yet.
			s.qmu.Lock()
			if i := slices.Index(s.queue, p); i >= 0 {
				s.queue = slices.Delete(s.queue, i, i+1)
				s.qmu.Unlock()
				return fmt.Errorf("couchstore: channel %s: tx %s: waiting for the commit lock: %w", s.channel, b.TxID, err)
			}
			s.qmu.Unlock()
			return <-p.done // a leader has it: its result comes
		}
		select {
		case err := <-p.done: // a previous leader committed our batch
			s.unlock()
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
		if len(group) == 0 {
			s.unlock()
			return <-p.done
		}
		// The group holds other callers' batches: the leader's
		// cancellation must not fail them, so the work is bounded by
		// groupTimeout instead.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
		s.commitGroup(gctx, group)
		cancel()
		s.unlock()
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
// validate, and sends each its result. The caller holds the commit lock.
func (s *Store) commitGroup(ctx context.Context, group []*pending) {
	finish := func(p *pending, err error) { p.done <- err }
	failAll := func(live []*pending, err error) {
		for _, p := range live {
			finish(p, err)
		}
	}
	live := group
	for {
		s.mu.Lock()
		closed, crashed := s.closed, s.crashed
		s.mu.Unlock()
		if closed || crashed {
			failAll(live, store.ErrClosed)
			return
		}
		if err := ctx.Err(); err != nil {
			failAll(live, err)
			return
		}
		if err := s.waitApplier(ctx); err != nil {
			failAll(live, err)
			return
		}
		seq := s.getHead() + 1
		v, err := s.validateGroup(ctx, seq, live)
		if err != nil {
			failAll(live, err)
			return
		}
		var accepted []*pending
		for i, p := range live {
			if v.conflicts[i] != nil {
				s.stats.conflicts.Add(1)
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
			if err != nil {
				failAll(live, s.wrap(err, "check journal entry %d", seq))
				return
			}
			if !taken {
				failAll(live, nil)
				return
			}
		} else {
			doc.Nonce = rand.Text()
			s.mu.Lock()
			applied := s.applied
			s.mu.Unlock()
			doc.Applied = &applied
			start := time.Now()
			s.lastPut.Store(putInFlight)
			err := s.putEntry(ctx, seq, &doc)
			s.lastPut.Store(time.Now().UnixNano())
			s.stats.journalPUT.Add(int64(time.Since(start)))
			committed, taken := err == nil, kivik.HTTPStatus(err) == http.StatusConflict
			if !committed && !taken && notSent(err) {
				for _, p := range live {
					finish(p, fmt.Errorf("tx %s: %w", p.b.TxID, s.wrap(err, "write journal entry %d (not sent: not committed)", seq)))
				}
				return
			}
			if !committed && !taken {
				// The answer may have been lost after the entry landed.
				nonce, cerr := s.entryNonce(ctx, seq)
				switch {
				case cerr != nil:
					err = fmt.Errorf("%w (%w)", s.wrap(err, "write journal entry %d: outcome unknown until the server answers again", seq), store.ErrOutcomeUnknown)
				case nonce == doc.Nonce:
					committed = true
				case nonce != "":
					taken = true
				default:
					err = s.wrap(err, "write journal entry %d (not committed)", seq)
				}
			}
			if committed {
				s.stats.groups.Add(1)
				s.stats.batches.Add(int64(len(live)))
				if err := s.hookAfterJournal(seq); err != nil {
					s.mu.Lock()
					s.crashed = true
					s.mu.Unlock()
					failAll(live, err)
					return
				}
				s.mu.Lock()
				s.learnLocked(seq, doc.Writes, doc.Events, false)
				s.mu.Unlock()
				size := 0
				for _, p := range live {
					size += p.size
				}
				s.written.Add(int64(entryBytes(size, len(doc.Writes))))
				s.kick()
				failAll(live, nil)
				return
			}
			if !taken {
				for _, p := range live {
					finish(p, fmt.Errorf("tx %s: %w", p.b.TxID, unavailable(err)))
				}
				return
			}
			s.stats.taken.Add(1)
		}
		// Another process took seq: learn its entries and validate again.
		if _, err := s.catchUp(ctx); err != nil {
			failAll(live, err)
			return
		}
	}
}

// groupValidation is the outcome of validating a group for commit seq.
type groupValidation struct {
	conflicts []error   // per batch: nil, or an ErrConflict
	doc       commitDoc // journal entry of the accepted batches
}

// overlayEntry is a write of an earlier batch of the same group.
type overlayEntry struct {
	value   []byte
	deleted bool
}

// validateGroup validates the batches in order, each against the committed
// state (as this process knows it at head seq-1) plus the writes of the
// batches accepted before it in the group.
func (s *Store) validateGroup(ctx context.Context, seq uint64, group []*pending) (*groupValidation, error) {
	var ids []string
	for _, p := range group {
		for _, r := range p.b.Reads {
			ids = append(ids, stateID(r.Key))
		}
	}
	states, err := s.getMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	v := &groupValidation{conflicts: make([]error, len(group))}
	overlay := map[string]overlayEntry{} // by state id
	newVersion := version(seq)
	versionOf := func(id string) store.Version {
		if e, ok := overlay[id]; ok {
			if e.deleted {
				return ""
			}
			return newVersion
		}
		return states[id].kv("").Version
	}
	written := map[string]int{} // id -> index in doc.Writes
	for gi, p := range group {
		b := p.b
		var conflict error
		for _, r := range b.Reads {
			if got := versionOf(stateID(r.Key)); got != r.Version {
				conflict = fmt.Errorf("couchstore: channel %s: tx %s: key %q is at version %q, read %q: %w",
					s.channel, b.TxID, r.Key, got, r.Version, store.ErrConflict)
				break
			}
		}
		for _, rr := range b.Ranges {
			if conflict != nil {
				break
			}
			ok, err := s.rangeHolds(ctx, b.Snapshot, rr, overlay, newVersion)
			if err != nil {
				return nil, err
			}
			if !ok {
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
			overlay[id] = overlayEntry{value: w.Value, deleted: w.Delete}
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

// notSent reports whether a request failed before it reached the server
// (the connection could not be made), so that it certainly did nothing.
func notSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// errUnstable says that a scan kept changing under the process's feet.
var errUnstable = errors.New("couchstore: scan did not settle")

// rangeBounds returns the state ids of a key range [start, end).
func rangeBounds(start, end string) (string, string) {
	if end == "" {
		return stateID(start), stateEnd
	}
	return stateID(start), stateID(end)
}

// rangeHolds reports whether range read rr still holds on the committed
// state plus the group overlay. When the batch was read on snapshot
// snapshot of this process and the window of recent writes covers every
// entry since, that is decided in memory: the range holds exactly when no
// entry since the snapshot, and no earlier batch of the group, wrote a key
// inside it (a write inside changes a version or the set of keys; that is
// conservative only for deletions of absent keys). Otherwise the range is
// scanned again.
func (s *Store) rangeHolds(ctx context.Context, snapshot uint64, rr store.RangeRead, overlay map[string]overlayEntry, newVersion store.Version) (bool, error) {
	startID, endID := rangeBounds(rr.Start, rr.End)
	if rr.End != "" && rr.End <= rr.Start {
		return len(rr.Results) == 0, nil
	}
	if snapshot > 0 {
		s.mu.Lock()
		touched, covered := false, false
		if snapshot <= s.head {
			touched, covered = s.mem.touched(snapshot, startID, endID)
		}
		s.mu.Unlock()
		if covered {
			if touched {
				return false, nil
			}
			for id, e := range overlay {
				if id >= startID && id < endID && !(e.deleted && !slices.ContainsFunc(rr.Results, func(kv store.KeyVersion) bool { return stateID(kv.Key) == id })) {
					return false, nil
				}
			}
			return true, nil
		}
	}
	got, err := s.scanOverlay(ctx, rr.Start, rr.End, len(rr.Results)+1, overlay, newVersion)
	if errors.Is(err, errUnstable) {
		return false, nil // could not be checked: a conflict (the caller retries)
	}
	if err != nil {
		return false, err
	}
	return sameRange(got, rr.Results), nil
}

// scanOverlay scans [start, end) as it will be once the overlay (writes of
// earlier batches of the group, at version newVersion, by state id) is
// applied, at most limit keys.
func (s *Store) scanOverlay(ctx context.Context, start, end string, limit int, overlay map[string]overlayEntry, newVersion store.Version) ([]store.KV, error) {
	startID, endID := rangeBounds(start, end)
	var inRange []string
	for id := range overlay {
		if id >= startID && id < endID {
			inRange = append(inRange, id)
		}
	}
	got, stable, err := s.scan(ctx, start, end, limit+len(inRange))
	if err != nil {
		return nil, err
	}
	if !stable {
		return nil, errUnstable
	}
	if len(inRange) == 0 {
		return got, nil
	}
	// got holds every committed key up to limit+len(inRange); the overlay
	// removes at most len(inRange) of them, so the first limit of the merge
	// are exact.
	merged := map[string]store.KV{}
	for _, kv := range got {
		merged[kv.Key] = kv
	}
	for _, id := range inRange {
		k, err := keyOfStateID(id)
		if err != nil {
			return nil, err
		}
		e := overlay[id]
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

// putEntry creates journal entry seq: one PUT without revision of the
// pre-encoded body (encodeEntry), through net/http rather than kivik, which
// would encode the document again through reflection. Its error carries the
// HTTP status for kivik.HTTPStatus (409: seq is taken).
func (s *Store) putEntry(ctx context.Context, seq uint64, doc *commitDoc) error {
	body, err := encodeEntry(doc)
	if err != nil {
		return err
	}
	resp, err := s.raw.do(ctx, http.MethodPut, s.dbPath+"/"+commitID(seq), body)
	if err != nil {
		return err
	}
	// The status said created: the entry is there, whatever the rest of
	// the answer.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
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

// hookAfterJournal runs the test hook, if any, between the journal write and
// its application.
func (s *Store) hookAfterJournal(seq uint64) error {
	if s.afterJournal == nil {
		return nil
	}
	return s.afterJournal(seq)
}
