package soloinvoker

import (
	"context"
	"sync"

	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// indexChunk is how many log entries one read of the index's catch-up
// takes.
const indexChunk = 512

// eventIndex maps the ids of one channel's events to the positions of the
// log entries that hold them (an eventwire.Index), so that a subscriber
// naming a start event (old, recent or unknown) is answered by one map
// look-up and one read of the entry, not by a scan of the log. The log
// only grows, so the index is built by reading it once, the first time a
// start event is named on the channel, and brought up to date by reading
// on from where it stopped each time it is asked.
type eventIndex struct {
	mu   sync.Mutex
	read uint64 // position of the last entry indexed
	ids  *eventwire.Index
}

// eventIndex returns the index of channel, creating it empty.
func (i *Invoker) eventIndex(channel string) *eventIndex {
	i.indexMu.Lock()
	defer i.indexMu.Unlock()
	x, ok := i.indexes[channel]
	if !ok {
		x = &eventIndex{ids: eventwire.NewIndex()}
		i.indexes[channel] = x
	}
	return x
}

// locate returns the position of the log entry that holds event id, from
// the channel's event index (see eventIndex); an id that no event has is
// NotFound.
func (i *Invoker) locate(ctx context.Context, channel, id string) (uint64, error) {
	if !eventwire.IsID(id) {
		return 0, orcerr.New(orcerr.NotFound, "event %s not found (event ids are UUIDs)", id)
	}
	select {
	case i.locates <- struct{}{}:
		defer func() { <-i.locates }()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	x := i.eventIndex(channel)
	x.mu.Lock()
	defer x.mu.Unlock()
	// Catch up with the entries committed since the last look-up.
	for {
		evs, err := i.peer.ReadEvents(ctx, channel, x.read, indexChunk)
		if err != nil {
			return 0, mapError("SubscribeToEvents", err)
		}
		for _, ev := range evs {
			x.read = ev.Seq
			if ev.Name != eventwire.ChaincodeEventName {
				continue
			}
			for b := ev.Payload; len(b) > 0; {
				raw, rest, err := eventwire.Next(b)
				if err != nil {
					return 0, orcerr.Wrap(orcerr.Internal, err, "event log entry %d", ev.Seq)
				}
				x.ids.Add(eventwire.ID(raw), ev.Seq)
				b = rest
			}
		}
		if len(evs) < indexChunk {
			break
		}
	}
	for _, seq := range x.ids.Candidates(id) {
		evs, err := i.peer.ReadEvents(ctx, channel, seq-1, 1)
		if err != nil {
			return 0, mapError("SubscribeToEvents", err)
		}
		if len(evs) == 1 && evs[0].Seq == seq && holds(evs[0].Payload, id) {
			return seq, nil
		}
	}
	return 0, orcerr.New(orcerr.NotFound, "event %s not found", id)
}
