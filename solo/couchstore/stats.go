package couchstore

import (
	"sync/atomic"
	"time"
)

// Stats counts what a Store did since Open, for benchmarks and for finding
// where commits wait. Durations are summed wall time.
type Stats struct {
	// Groups is the number of journal entries this process wrote, Batches
	// the Commit calls they carried, Conflicts the batches refused with
	// ErrConflict at validation, and Taken the journal PUTs that found
	// their seq taken by another process (409).
	Groups, Batches, Conflicts, Taken int64
	// JournalPUT is the time spent in journal PUTs.
	JournalPUT time.Duration
	// BacklogWaits counts the commits that waited for the applier
	// (maxUnapplied reached), BacklogWait their total wait.
	BacklogWaits int64
	BacklogWait  time.Duration
	// ApplyRounds, ApplyRequests and ApplyDocs count the applier's
	// rounds, _bulk_docs requests and documents written; ApplyTime is
	// their time.
	ApplyRounds, ApplyRequests, ApplyDocs int64
	ApplyTime                             time.Duration
	// Compactions is the number of compactions started.
	Compactions int64
}

// counters are the atomic counters behind Stats.
type counters struct {
	groups, batches, conflicts, taken   atomic.Int64
	journalPUT                          atomic.Int64 // ns
	backlogWaits, backlogWait           atomic.Int64 // count, ns
	applyRounds, applyRequests, applied atomic.Int64
	applyTime                           atomic.Int64 // ns
}

// Stats returns what the store did since Open.
func (s *Store) Stats() Stats {
	c := &s.stats
	return Stats{
		Groups:        c.groups.Load(),
		Batches:       c.batches.Load(),
		Conflicts:     c.conflicts.Load(),
		Taken:         c.taken.Load(),
		JournalPUT:    time.Duration(c.journalPUT.Load()),
		BacklogWaits:  c.backlogWaits.Load(),
		BacklogWait:   time.Duration(c.backlogWait.Load()),
		ApplyRounds:   c.applyRounds.Load(),
		ApplyRequests: c.applyRequests.Load(),
		ApplyDocs:     c.applied.Load(),
		ApplyTime:     time.Duration(c.applyTime.Load()),
		Compactions:   s.compactions.Load(),
	}
}
