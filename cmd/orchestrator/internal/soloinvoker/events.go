package soloinvoker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// EventName is the name of the orchestrator's chaincode events; their
// payload is the transaction's orchestrator.Event messages, each
// varint-length-delimited.
const EventName = "orchestrator"

// locateChunk is how many log entries one backward step of the start-event
// search reads.
const locateChunk = 512

// Subscribe yields the events of channel that follow the event with id
// startEventID (from the first event when empty), in commit order, then
// the events of new commits as they happen, until ctx is done. An unknown
// start event is a NotFound error. The sequence yields at most one error,
// last.
//
// The events are yielded in wire form, not decoded: each *protos.Event
// holds its whole encoding as unknown fields, so that it marshals to the
// very bytes the contracts emitted (sending one to a gRPC stream costs a
// copy, where decoding and re-encoding it cost most of a replay). Its
// getters return zero values; Decode gives the decoded event.
func (i *Invoker) Subscribe(ctx context.Context, channel, startEventID string) iter.Seq2[*protos.Event, error] {
	return func(yield func(*protos.Event, error) bool) {
		var after uint64
		skip := ""
		if startEventID != "" {
			seq, err := i.locate(ctx, channel, startEventID)
			if err != nil {
				yield(nil, err)
				return
			}
			// Stream from the entry holding the start event, skipping it
			// and the events before it in that entry.
			after, skip = seq-1, startEventID
		}
		for ev, err := range i.peer.Events(ctx, channel, after) {
			if err != nil {
				yield(nil, mapError("SubscribeToEvents", err))
				return
			}
			if ev.Name != EventName {
				continue
			}
			for b := ev.Payload; len(b) > 0; {
				raw, rest, err := next(b)
				if err != nil {
					yield(nil, orcerr.Wrap(orcerr.Internal, err, "event log entry %d", ev.Seq))
					return
				}
				b = rest
				if skip != "" {
					if eventwire.ID(raw) == skip {
						skip = ""
					}
					continue
				}
				e := new(protos.Event)
				e.ProtoReflect().SetUnknown(raw)
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// Decode returns the decoded form of an event that Subscribe yielded (and
// e itself if it is decoded already).
func Decode(e *protos.Event) (*protos.Event, error) {
	raw := e.ProtoReflect().GetUnknown()
	if len(raw) == 0 {
		return e, nil
	}
	out := new(protos.Event)
	if err := proto.Unmarshal(raw, out); err != nil {
		return nil, err
	}
	return out, nil
}

// next splits the first varint-length-delimited message off b.
func next(b []byte) (msg, rest []byte, err error) {
	n, l := protowire.ConsumeVarint(b)
	if l < 0 || n > uint64(len(b)-l) {
		return nil, nil, errors.New("malformed length-delimited event")
	}
	return b[l : l+int(n)], b[l+int(n):], nil
}

// maxLocates bounds the start-event searches that run at once: each may
// read the whole log, so callers naming old or unknown events queue
// instead of taking every core.
const maxLocates = 2

// isEventID reports whether id has the form of the ids the contracts give
// events (a UUID, lower-case hexadecimal): another string names no event
// and needs no search.
func isEventID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// locate returns the position of the log entry that holds event id,
// searching backwards from the end of the log: a subscriber usually resumes
// near the end. Each step reads a window (lo, hi] of positions forward, in
// chunks of locateChunk events; positions may have gaps (a store may number
// the events of a commit from commit << 16), so a window that held few
// events doubles the next one, and a crowded one halves it.
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
	last, err := i.lastSeq(ctx, channel)
	if err != nil {
		return 0, err
	}
	needle := []byte(id)
	step := uint64(locateChunk)
	for hi := last; hi > 0; {
		lo := hi - min(hi, step)
		seen := 0
		for after := lo; after < hi; {
			evs, err := i.peer.ReadEvents(ctx, channel, after, locateChunk)
			if err != nil {
				return 0, mapError("SubscribeToEvents", err)
			}
			for _, ev := range evs {
				if ev.Seq > hi {
					break
				}
				seen++
				// Event ids are unique: the first match is the match.
				if ev.Name == EventName && bytes.Contains(ev.Payload, needle) && holds(ev.Payload, id) {
					return ev.Seq, nil
				}
			}
			if len(evs) < locateChunk {
				break
			}
			after = evs[len(evs)-1].Seq
		}
		switch {
		case seen < locateChunk/2 && step < 1<<62:
			step *= 2
		case seen > 2*locateChunk && step > locateChunk:
			step /= 2
		}
		hi = lo
	}
	return 0, orcerr.New(orcerr.NotFound, "event %s not found", id)
}

// holds reports whether a chaincode event payload holds the event id.
func holds(payload []byte, id string) bool {
	for b := payload; len(b) > 0; {
		raw, rest, err := next(b)
		if err != nil {
			return false
		}
		if eventwire.ID(raw) == id {
			return true
		}
		b = rest
	}
	return false
}

// lastSeq returns the position of the last entry of the channel's event
// log (0 when empty), by an exponential then binary search over positions.
func (i *Invoker) lastSeq(ctx context.Context, channel string) (uint64, error) {
	exists := func(after uint64) (bool, error) {
		evs, err := i.peer.ReadEvents(ctx, channel, after, 1)
		if err != nil {
			return false, mapError("SubscribeToEvents", err)
		}
		return len(evs) > 0, nil
	}
	// Find lo < hi with an entry after lo and none after hi.
	lo, hi := uint64(0), uint64(1024)
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
		if hi == 0 {
			return 0, fmt.Errorf("event log too long")
		}
	}
	if ok, err := exists(lo); err != nil || !ok {
		return lo, err
	}
	for hi-lo > 1 { // entry after lo, none after hi
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
