package soloinvoker

import (
	"context"
	"encoding/hex"
	"sync"

	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// indexChunk is how many log entries one read of the index's catch-up
// takes.
const indexChunk = 512

// eventIndex maps the ids of one channel's events to the positions of the
// log entries that hold them, so that a subscriber naming a start event
// (old, recent or unknown) is answered by one map look-up and one read of
// the entry, not by a scan of the log. The log only grows, so the index is
// built by reading it once, the first time a start event is named on the
// channel, and brought up to date by reading on from where it stopped each
// time it is asked.
//
// It keys events by the first 8 bytes of their id (a UUID drawn from a
// hash of the transaction id): 16 bytes per event. Two ids may share those
// bytes; such positions are all kept and checked against the entry.
type eventIndex struct {
	mu   sync.Mutex
	read uint64            // position of the last entry indexed
	pos  map[uint64]uint64 // id prefix -> entry position
	more map[uint64][]uint64
}

// idPrefix returns the first 8 bytes of a well-formed event id (see
// isEventID).
func idPrefix(id string) uint64 {
	var b [8]byte
	hex.Decode(b[:4], []byte(id[0:8]))
	hex.Decode(b[4:6], []byte(id[9:13]))
	hex.Decode(b[6:8], []byte(id[14:18]))
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func (x *eventIndex) add(id string, seq uint64) {
	if !isEventID(id) {
		return
	}
	k := idPrefix(id)
	if old, ok := x.pos[k]; !ok {
		x.pos[k] = seq
	} else if old != seq && !contains(x.more[k], seq) {
		x.more[k] = append(x.more[k], seq)
	}
}

func contains(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// eventIndex returns the index of channel, creating it empty.
func (i *Invoker) eventIndex(channel string) *eventIndex {
	i.indexMu.Lock()
	defer i.indexMu.Unlock()
	x, ok := i.indexes[channel]
	if !ok {
		x = &eventIndex{pos: map[uint64]uint64{}, more: map[uint64][]uint64{}}
		i.indexes[channel] = x
	}
	return x
}

// locate returns the position of the log entry that holds event id, from
// the channel's event index (see eventIndex); an id that no event has is
// NotFound.
func (i *Invoker) locate(ctx context.Context, channel, id string) (uint64, error) {
	if !isEventID(id) {
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
				x.add(eventwire.ID(raw), ev.Seq)
				b = rest
			}
		}
		if len(evs) < indexChunk {
			break
		}
	}
	k := idPrefix(id)
	first, ok := x.pos[k]
	if !ok {
		return 0, orcerr.New(orcerr.NotFound, "event %s not found", id)
	}
	for _, seq := range append([]uint64{first}, x.more[k]...) {
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
