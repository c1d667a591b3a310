package couchstore

import (
	"context"
	"net/http"
	"time"

	"github.com/go-kivik/kivik/v4"
)

const (
	// foreignApplyDelay is how long the applier leaves an entry of another
	// process to its writer before applying it itself (applying twice is
	// harmless, but costs requests and conflicts): a few of the writer's
	// application rounds.
	foreignApplyDelay = 3 * time.Second
	// applyBatchEntries bounds the journal entries applied by one round,
	// and applyBatchBytes their write sets' bytes.
	applyBatchEntries = 256
	applyBatchBytes   = 8 << 20
	// applyInterval is the pause between two application rounds: the
	// entries of that time are applied together, each document once with
	// its newest value (a key written several times is written once, a key
	// created and deleted not at all), so that the applier's writes take
	// little of the server's time from the journal PUTs on the callers'
	// path. A state document costs the server about as much CPU as a
	// fifth of a journal PUT whatever its size, so the longer the round
	// the fewer documents: in the load tool's task lifecycle, a second
	// writes 13% fewer documents than 250 ms. A backlog of
	// applyBatchEntries/2 entries does not wait.
	applyInterval = time.Second
	// applyTimeout bounds one application round.
	applyTimeout = time.Minute
	// compactEvery is how many bytes this process writes between two
	// looks at the database's file and live sizes (compaction is started
	// when the file is over compactRatio times the live data).
	compactEvery = 32 << 20
	compactRatio = 2
	// compactLook is how often an idle applier looks at the sizes when
	// anything was written since its last look (a compaction that was
	// running at the last look may be needed again).
	compactLook = 10 * time.Second
	// applierWait bounds how long a commit waits for the applier when
	// maxUnapplied entries are waiting.
	applierWait = 10 * time.Second
)

// applier applies the entries this process knows, in journal order, off
// the callers' path, until Close (which lets it finish, for at most
// closeTimeout).
func (s *Store) applier() {
	defer close(s.applierEnd)
	backoff := time.Duration(0)
	var deadline, lastRound time.Time
	// recheck: the last look found a compaction running or started one,
	// so the file may still be over the ratio once it ends (writes went
	// on meanwhile): look again even if nothing is written any more.
	recheck := false
	look := time.NewTicker(s.compactLookOr())
	defer look.Stop()
	for {
		quitting := false
		select {
		case <-s.quit:
			quitting = true
		default:
		}
		if quitting && deadline.IsZero() {
			deadline = time.Now().Add(closeTimeout)
		}
		s.mu.Lock()
		crashed := s.crashed
		var batch []*entry
		bytes := 0
		for _, e := range s.mem.unapplied {
			if len(batch) == applyBatchEntries || len(batch) > 0 && bytes > applyBatchBytes {
				break
			}
			batch = append(batch, e)
			for _, w := range e.writes {
				bytes += len(w.ID) + len(w.Value)
			}
		}
		backlog := len(s.mem.unapplied)
		s.mu.Unlock()
		if crashed || (quitting && (len(batch) == 0 || time.Now().After(deadline))) {
			return
		}
		var wait <-chan time.Time
		if len(batch) > 0 && !quitting {
			// Leave the entries of other processes to their writers for a
			// while.
			delay := s.foreignDelayOr()
			for i, e := range batch {
				if e.foreign {
					if d := time.Until(e.learned.Add(delay)); d > 0 {
						if i == 0 {
							wait = time.After(d)
							batch = nil
						} else {
							batch = batch[:i]
						}
						break
					}
				}
			}
		}
		if len(batch) == 0 {
			select {
			case <-look.C:
				if s.written.Swap(0) > 0 || recheck {
					recheck = s.maybeCompact()
				}
			case <-s.applyKick:
			case <-wait:
			case <-s.quit:
				if !quitting {
					continue
				}
				return
			}
			continue
		}
		s.mu.Lock()
		gate := s.applyGate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-s.quit:
			}
		}
		if backoff > 0 {
			select {
			case <-time.After(backoff):
			case <-s.quit:
			}
		}
		if pause := time.Until(lastRound.Add(s.applyIntervalOr())); pause > 0 && !quitting && backlog < applyBatchEntries/2 {
			select {
			case <-time.After(pause):
				continue // take what came meanwhile
			case <-s.quit:
				continue
			}
		}
		lastRound = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		docs, err := s.apply(ctx, batch)
		cancel()
		s.stats.applyRounds.Add(1)
		s.stats.applyTime.Add(int64(time.Since(lastRound)))
		if err != nil {
			backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
			continue
		}
		backoff = 0
		s.mu.Lock()
		s.mem.applied(len(batch), docs)
		s.applied = batch[len(batch)-1].seq
		close(s.appliedCh)
		s.appliedCh = make(chan struct{})
		s.mu.Unlock()
		if s.written.Load() >= s.compactEveryOr() {
			s.written.Store(0)
			recheck = s.maybeCompact()
		}
		select {
		case <-look.C:
			if s.written.Swap(0) > 0 || recheck {
				recheck = s.maybeCompact()
			}
		default:
		}
	}
}

func (s *Store) compactLookOr() time.Duration {
	if s.compactLook > 0 {
		return s.compactLook
	}
	return compactLook
}

func (s *Store) compactEveryOr() int64 {
	if s.compactEvery > 0 {
		return s.compactEvery
	}
	return compactEvery
}

func (s *Store) applyIntervalOr() time.Duration {
	if s.applyEvery > 0 {
		return s.applyEvery
	}
	return applyInterval
}

func (s *Store) foreignDelayOr() time.Duration {
	if s.foreignDelay > 0 {
		return s.foreignDelay
	}
	return foreignApplyDelay
}

// waitApplier waits while maxUnapplied entries, or maxUnappliedBytes of
// write sets, are waiting for the applier.
func (s *Store) waitApplier(ctx context.Context) error {
	// A server that cannot take the application (down) fails the group
	// soon rather than at the group's timeout.
	ctx, cancel := context.WithTimeout(ctx, applierWait)
	defer cancel()
	var waitStart time.Time
	defer func() {
		if !waitStart.IsZero() {
			s.stats.backlogWaits.Add(1)
			s.stats.backlogWait.Add(int64(time.Since(waitStart)))
		}
	}()
	for {
		s.mu.Lock()
		n, bytes, ch, closed := len(s.mem.unapplied), s.mem.unappliedBytes, s.appliedCh, s.closed
		s.mu.Unlock()
		if n < maxUnapplied && bytes < maxUnappliedBytes || closed {
			return nil
		}
		if waitStart.IsZero() {
			waitStart = time.Now()
		}
		s.kick()
		select {
		case <-ch:
		case <-ctx.Done():
			return unavailable(s.wrap(ctx.Err(), "waiting for %d commits to be applied", n))
		}
	}
}

// target is the newest write of one state document by a run of entries.
type target struct {
	seq uint64
	w   commitWrite
}

// apply writes the write sets of entries (consecutive, in order) into the
// state documents and returns what it learned of the documents (id -> new
// revision). It is idempotent and safe to run concurrently with other
// appliers of the same or other entries: a document is written only if its
// "s" is older than the write's entry, and conditionally on the revision
// that showed that (a 409 re-reads and re-decides). Each document gets only
// the newest write of the run.
func (s *Store) apply(ctx context.Context, entries []*entry) (map[string]docState, error) {
	targets := map[string]target{}
	var order []string
	// Documents written by another process's entries are read first: what
	// this process believes of them may predate a later write of theirs
	// (a deletion re-created without revision would undo it).
	foreign := map[string]bool{}
	for _, e := range entries {
		for _, w := range e.writes {
			if e.foreign {
				foreign[w.ID] = true
			}
			if _, ok := targets[w.ID]; !ok {
				order = append(order, w.ID)
			}
			targets[w.ID] = target{seq: e.seq, w: w}
		}
	}
	done := map[string]docState{}
	pendingIDs := order
	for round := 0; len(pendingIDs) > 0; round++ {
		if round >= maxApplyRounds {
			return nil, s.errf("apply commits %d-%d: %d documents still conflicting after %d rounds",
				entries[0].seq, entries[len(entries)-1].seq, len(pendingIDs), round)
		}
		// What is known of each document: from the cache on the first
		// round, else read.
		states := make(map[string]docState, len(pendingIDs))
		var unknown []string
		s.mu.Lock()
		for _, id := range pendingIDs {
			if c, ok := s.mem.cache[id]; ok && c.docKnown && round == 0 && !foreign[id] {
				states[id] = docState{exists: c.docRev != "" && !c.docDeleted, deleted: c.docDeleted, rev: c.docRev, seq: c.docSeq}
				continue
			}
			unknown = append(unknown, id)
		}
		s.mu.Unlock()
		if len(unknown) > 0 {
			ds, err := s.fetch(ctx, unknown)
			if err != nil {
				return nil, err
			}
			for i, id := range unknown {
				d := ds[i]
				if d.deleted {
					// _all_docs does not give a tombstone's "s".
					ts, err := s.tombstoneSeq(ctx, id, d.rev)
					if err != nil {
						return nil, err
					}
					d.seq = ts
				}
				states[id] = d
			}
		}
		var docs []any
		var sent []string
		for _, id := range pendingIDs {
			t, d := targets[id], states[id]
			if (d.exists || d.deleted) && d.seq >= t.seq {
				continue // this entry or a later one got there first
			}
			if t.w.Delete {
				if !d.exists {
					continue // absent already
				}
				docs = append(docs, stateWrite{ID: id, Rev: d.rev, Deleted: true, Seq: t.seq})
				sent = append(sent, id)
				continue
			}
			rev := d.rev
			if d.deleted {
				// CouchDB 3 re-creates a deleted document only from an
				// update without revision (the tombstone's gives 409).
				rev = ""
			}
			docs = append(docs, stateWrite{ID: id, Rev: rev, Seq: t.seq, Value: t.w.Value})
			sent = append(sent, id)
		}
		if len(docs) == 0 {
			return done, nil
		}
		s.stats.applyRequests.Add(1)
		s.stats.applied.Add(int64(len(docs)))
		res, err := s.sdb.BulkDocs(ctx, docs)
		if err != nil {
			return nil, s.wrap(err, "apply commits %d-%d: _bulk_docs", entries[0].seq, entries[len(entries)-1].seq)
		}
		if len(res) != len(docs) {
			return nil, s.errf("apply: _bulk_docs answered %d results for %d documents", len(res), len(docs))
		}
		for _, d := range docs {
			w := d.(stateWrite)
			s.written.Add(int64(len(w.ID) + len(w.Value)*4/3 + 64))
		}
		pendingIDs = pendingIDs[:0:0]
		for i, r := range res {
			id := sent[i]
			switch {
			case r.Error == nil:
				t := targets[id]
				done[id] = docState{rev: r.Rev, seq: t.seq, deleted: t.w.Delete, exists: !t.w.Delete}
			case kivik.HTTPStatus(r.Error) == http.StatusConflict:
				pendingIDs = append(pendingIDs, id)
				s.mu.Lock()
				s.mem.forgetDoc(id)
				s.mu.Unlock()
			default:
				return nil, s.wrap(r.Error, "apply: write %s", id)
			}
		}
	}
	return done, nil
}

// tombstoneSeq returns the "s" kept in the deletion revision rev of id.
func (s *Store) tombstoneSeq(ctx context.Context, id, rev string) (uint64, error) {
	var doc stateDoc
	if err := s.sdb.Get(ctx, id, kivik.Rev(rev)).ScanDoc(&doc); err != nil {
		return 0, s.wrap(err, "read tombstone %s", id)
	}
	return doc.Seq, nil
}

// maybeCompact starts a compaction of the state database, and of the
// journal's, when its file is over compactRatio times its live data.
// CouchDB compacts in the background. It reports whether a compaction was
// running or started: the next look should check again.
func (s *Store) maybeCompact() (again bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dbs := []*kivik.DB{s.sdb}
	if s.sdbPath != s.dbPath {
		dbs = append(dbs, s.db)
	}
	for _, db := range dbs {
		st, err := db.Stats(ctx)
		if err != nil {
			again = true // the server may be back at the next look
			continue
		}
		if st.CompactRunning {
			again = true
			continue
		}
		if st.ActiveSize > 0 && st.DiskSize > compactRatio*st.ActiveSize {
			again = true // best effort: the next look tries again
			if db.Compact(ctx) == nil {
				s.compactions.Add(1)
			}
		}
	}
	return again
}
