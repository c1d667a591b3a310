package couchstore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/go-kivik/kivik/v4"

	"github.com/fedchain/orchestrator/solo/store"
)

// journalPage is how many journal entries one catch-up request reads.
const journalPage = 64

// fullEntry is a journal entry with its id, as read back.
type fullEntry struct {
	ID string `json:"_id"`
	commitDoc
}

// readJournal returns up to n whole journal entries from commit seq from
// on, in order.
func (s *Store) readJournal(ctx context.Context, from uint64, n int) ([]fullEntry, error) {
	rs := s.db.AllDocs(ctx, kivik.Params(map[string]any{
		"startkey":      commitID(from),
		"endkey":        commitEnd,
		"inclusive_end": false,
		"include_docs":  true,
		"limit":         n,
	}))
	defer rs.Close()
	var out []fullEntry
	for rs.Next() {
		var e fullEntry
		if err := rs.ScanDoc(&e); err != nil {
			return nil, s.wrap(err, "decode journal entry")
		}
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap(err, "read journal from %d", from)
	}
	return out, nil
}

// load reads the newest journal entry, takes the applied watermark it
// carries, and learns every entry after it: they may not be applied yet
// (their writer may have died), so they form the overlay and the applier
// applies them.
func (s *Store) load(ctx context.Context) error {
	rs := s.db.AllDocs(ctx, kivik.Params(map[string]any{
		"descending":   true,
		"startkey":     commitEnd,
		"endkey":       commitPrefix,
		"limit":        1,
		"include_docs": true,
	}))
	var newest *fullEntry
	for rs.Next() {
		var e fullEntry
		if err := rs.ScanDoc(&e); err != nil {
			rs.Close()
			return s.wrap(err, "decode the newest journal entry")
		}
		newest = &e
	}
	err := rs.Err()
	rs.Close()
	if err != nil {
		return s.wrap(err, "read the newest journal entry")
	}
	if newest == nil {
		// An empty channel: the cache knows every key (there is none).
		s.mu.Lock()
		s.mem.setComplete()
		s.mu.Unlock()
		return nil
	}
	last, err := seqOfCommitID(newest.ID)
	if err != nil {
		return s.wrap(err, "read the newest journal entry")
	}
	// Entries written before the watermark existed (no "a") come from the
	// older protocol, where only the newest entry could be unapplied.
	from := last
	if newest.Applied != nil {
		from = *newest.Applied + 1
	}
	s.mu.Lock()
	s.head, s.applied = from-1, from-1
	s.ring.from = from - 1
	s.mu.Unlock()
	if err := s.loadState(ctx); err != nil {
		return err
	}
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.unlock()
	_, err = s.catchUp(ctx)
	return err
}

// loadPage is how many state documents one request of loadState reads.
const loadPage = 2000

// loadState fills the cache with the whole state when it fits (at most
// half the cache bound), so that a miss is known absent (memState.complete).
// A larger state is left to cold reads.
func (s *Store) loadState(ctx context.Context) error {
	st, err := s.sdb.Stats(ctx)
	if err != nil {
		return s.wrap(err, "read database info")
	}
	if st.ActiveSize > int64(s.mem.maxBytes/2) {
		return nil
	}
	s.mu.Lock()
	evictions := s.mem.evictions
	s.mu.Unlock()
	startID := statePrefix
	for {
		rs := s.sdb.AllDocs(ctx, kivik.Params(map[string]any{
			"startkey":      startID,
			"endkey":        stateEnd,
			"inclusive_end": false,
			"include_docs":  true,
			"limit":         loadPage,
		}))
		var page []docState
		var ids []string
		for rs.Next() {
			id, err := rs.ID()
			if err != nil {
				rs.Close()
				return s.wrap(err, "load state")
			}
			rev, _ := rs.Rev()
			var doc stateDoc
			if err := rs.ScanDoc(&doc); err != nil {
				rs.Close()
				return s.wrap(err, "load state: decode %s", id)
			}
			ids = append(ids, id)
			page = append(page, docState{exists: true, rev: rev, seq: doc.Seq, value: doc.Value})
		}
		err := rs.Err()
		rs.Close()
		if err != nil {
			return s.wrap(err, "load state")
		}
		s.mu.Lock()
		for i, id := range ids {
			s.mem.fill(id, page[i], evictions)
		}
		evicted := s.mem.evictions != evictions
		s.mu.Unlock()
		if evicted {
			return nil // does not fit after all: cold reads
		}
		if len(ids) < loadPage {
			break
		}
		startID = ids[len(ids)-1] + "\x00"
	}
	s.mu.Lock()
	s.mem.setComplete()
	s.mu.Unlock()
	return nil
}

// catchUp learns the journal entries after head, up to the newest, and
// returns the new head. The caller holds the commit lock.
func (s *Store) catchUp(ctx context.Context) (uint64, error) {
	for {
		s.mu.Lock()
		crashed := s.crashed
		s.mu.Unlock()
		if crashed {
			return 0, store.ErrClosed // a simulated crash learns nothing more
		}
		head := s.getHead()
		entries, err := s.readJournal(ctx, head+1, journalPage)
		if err != nil {
			return 0, err
		}
		s.mu.Lock()
		for _, e := range entries {
			seq, err := seqOfCommitID(e.ID)
			if err != nil {
				s.mu.Unlock()
				return 0, s.wrap(err, "read journal")
			}
			if seq != s.head+1 {
				s.mu.Unlock()
				return 0, s.errf("journal entry %d follows %d: the journal has a gap (database recreated?)", seq, s.head)
			}
			s.learnLocked(seq, e.Writes, e.Events, true)
		}
		s.mu.Unlock()
		if len(entries) < journalPage {
			s.kick()
			return s.getHead(), nil
		}
	}
}

// learnLocked records entry seq (head+1) as committed: cache, overlay,
// window, event position, head, and wakes event waiters. The caller holds
// mu.
func (s *Store) learnLocked(seq uint64, writes []commitWrite, events []commitEvent, foreign bool) {
	s.mem.learn(seq, writes, foreign, time.Now())
	s.ring.add(seq, events)
	s.head = seq
	if len(events) > 0 {
		s.event = max(s.event, eventSeq(seq, len(events)-1))
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// kick wakes the applier.
func (s *Store) kick() {
	select {
	case s.applyKick <- struct{}{}:
	default:
	}
}

// followWindow is how many future journal ids one _changes feed of the
// follower watches; the feed is renewed when head passed half of them.
const followWindow = 128

// followIdle is how long after this process's last journal PUT the
// follower opens its feed again.
const followIdle = 50 * time.Millisecond

// follower learns the journal entries of other processes as they are
// written, through a continuous _changes feed filtered to the next
// followWindow journal ids, so that this process's reads do not lag behind
// other processes' commits for longer than the feed's latency. Commits,
// event reads and cold reads that meet a newer document learn them too.
//
// The feed is open only while this process is not committing: a process
// that commits learns every entry written before its own at its next
// journal PUT (the PUT of seq H+1 meets any entry H+1 as a 409, and reads
// what came after H), so while commits follow each other the feed would only
// echo them, and each row costs the server several milliseconds of CPU (as
// much as a third of the PUT itself). The follower closes the feed when a
// journal PUT of this process was answered since it opened it, and opens it
// again (learning what came meanwhile) once followIdle has passed without
// one. So a read lags behind other processes' commits by at most the
// feed's latency when this process is idle, and by at most followIdle
// after its last commit otherwise. The follower never waits for the commit
// lock (followLearn): a commit under way would hold it for a PUT, and
// whoever holds it is learning anyway.
func (s *Store) follower() {
	defer close(s.followerEnd)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.quit
		cancel()
	}()
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if backoff > 0 {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
		}
		if !s.waitIdle(ctx) {
			return
		}
		from := s.getHead() + 1
		ids := make([]string, followWindow)
		for i := range ids {
			ids[i] = commitID(from + uint64(i))
		}
		err := s.followOnce(ctx, from, ids)
		switch {
		case errors.Is(err, errFollowBusy):
			// A commit or a catch-up is learning: look again later.
			backoff = s.followIdleOr()
		case err != nil && ctx.Err() == nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
		default:
			backoff = 0
		}
	}
}

// errFollowBusy stops a feed of the follower whose catch-up found the
// commit lock taken.
var errFollowBusy = errors.New("couchstore: the commit lock is taken")

// followLearn is learnNew for the follower, which never waits for the
// commit lock: its holder is committing (and learns at its PUT every entry
// before its own) or catching up. errFollowBusy when the lock was taken.
func (s *Store) followLearn(ctx context.Context, seq uint64) error {
	select {
	case s.lock <- struct{}{}:
	default:
		return errFollowBusy
	}
	defer s.unlock()
	if seq > 0 && s.getHead() >= seq {
		return nil
	}
	_, err := s.catchUp(ctx)
	return err
}

// putInFlight is Store.lastPut while a journal PUT is under way.
const putInFlight = math.MaxInt64

// waitIdle waits until followIdle has passed since this process's last
// journal PUT ended, with none under way; false when ctx ended first.
func (s *Store) waitIdle(ctx context.Context) bool {
	for {
		d := s.followIdleOr()
		if last := s.lastPut.Load(); last != putInFlight {
			d -= time.Since(time.Unix(0, last))
		}
		if d <= 0 {
			return true
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return false
		}
	}
}

func (s *Store) followIdleOr() time.Duration {
	if s.followIdle > 0 {
		return s.followIdle
	}
	return followIdle
}

// learnNew catches up under the commit lock, unless head reached seq
// meanwhile (the feed also tells this process's own commits, often before
// their writer has recorded them).
func (s *Store) learnNew(ctx context.Context, seq uint64) error {
	if err := s.lockCtx(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if seq > 0 && s.getHead() >= seq {
		return nil
	}
	_, err := s.catchUp(ctx)
	return err
}

// followOnce runs one continuous _changes feed on ids (kivik's continuous
// feed cannot be used: its iterator dereferences nil at the end of the
// stream). It returns nil when head passed half the window, or when this
// process made a journal PUT since the feed opened (see follower).
func (s *Store) followOnce(ctx context.Context, from uint64, ids []string) error {
	put := s.lastPut.Load()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"doc_ids": ids})
	resp, err := s.raw.do(fctx, http.MethodPost, s.dbPath+"/_changes?feed=continuous&since=now&filter=_doc_ids&heartbeat=10000", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The feed starts now: learn what came before it.
	if err := s.followLearn(ctx, 0); err != nil {
		return err
	}
	s.feeds.Add(1)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if s.getHead()+1 >= from+followWindow/2 {
			return nil // renew the window
		}
		if s.lastPut.Load() != put {
			return nil // committing: the commits learn (see follower)
		}
		line := sc.Bytes()
		if len(line) == 0 {
			continue // heartbeat
		}
		var ch struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(line, &ch) != nil {
			continue
		}
		if seq, perr := seqOfCommitID(ch.ID); perr == nil && seq > s.getHead() {
			if err := s.followLearn(ctx, seq); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("changes feed ended")
}
