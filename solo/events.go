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
		for {
			evs, err := st.ReadEvents(ctx, after, 256)
			if err != nil {
				yield(Event{}, err)
				return
			}
			for _, e := range evs {
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
