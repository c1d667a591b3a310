package solo

import (
	"context"
	"iter"

	"github.com/fedchain/orchestrator/solo/store"
)

// Event is one entry of a channel's event log: the chaincode event of a
// committed transaction and its position (Seq) in the log.
type Event = store.Event

// ReadEvents returns up to limit (<= 0: all) committed events of channel
// with a position after after, in commit order, without waiting.
func (p *Peer) ReadEvents(ctx context.Context, channel string, after uint64, limit int) ([]Event, error) {
	st, err := p.Store(ctx, channel)
	if err != nil {
		return nil, err
	}
	return st.ReadEvents(ctx, after, limit)
}

// Events yields the committed events of channel after position after, in
// commit order, and then waits for new commits (it is woken by them, it does
// not poll) until ctx is done or the Peer is closed; it then yields the
// error once and stops. Resume an interrupted stream with the Seq of the
// last event received.
func (p *Peer) Events(ctx context.Context, channel string, after uint64) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		st, err := p.Store(ctx, channel)
		if err != nil {
			yield(Event{}, err)
			return
		}
		limit := firstEventBatch
		for {
			evs, err := st.ReadEvents(ctx, after, limit)
			if err != nil {
				yield(Event{}, err)
				return
			}
			limit = nextEventBatch(limit, evs)
			for i, e := range evs {
				// The batch lets go of each entry it hands over: a stream
				// holds the rest of its batch and what its sender queued.
				evs[i] = Event{}
				if !yield(e, nil) {
					return
				}
				after = e.Seq
			}
			if len(evs) > 0 {
				continue
			}
			if err := st.WaitEvents(ctx, after); err != nil {
				yield(Event{}, err)
				return
			}
		}
	}
}

// Events reads the log by batches of entries whose size adapts to the
// entries' payloads, so that a stream holds about eventBatchBytes of log
// whatever the transactions: an entry holds every event of its
// transaction (a RegisterTasks of 1,000 tasks makes one of some 600 KiB),
// and a fixed 256 entries could then take 150 MiB per subscriber.
const (
	firstEventBatch = 8
	maxEventBatch   = 256
	eventBatchBytes = 1 << 20
)

// nextEventBatch returns the number of entries to read after a batch of
// limit entries that gave evs: enough for about eventBatchBytes at the
// batch's mean entry size, at most twice the last limit.
func nextEventBatch(limit int, evs []Event) int {
	if len(evs) == 0 {
		return limit
	}
	size := 0
	for _, e := range evs {
		size += len(e.Payload) + len(e.TxID) + len(e.Name)
	}
	n := eventBatchBytes * len(evs) / max(size, 1)
	return min(max(n, 1), 2*limit, maxEventBatch)
}
