package soloinvoker

import (
	"context"
	"iter"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

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
			if ev.Name != eventwire.ChaincodeEventName {
				continue
			}
			for b := ev.Payload; len(b) > 0; {
				raw, rest, err := eventwire.Next(b)
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

// maxLocates bounds the start-event look-ups that run at once: the first
// one on a channel reads the whole log to build its index, so callers
// naming start events queue instead of taking every core.
const maxLocates = 2

// holds reports whether a chaincode event payload holds the event id.
func holds(payload []byte, id string) bool {
	for b := payload; len(b) > 0; {
		raw, rest, err := eventwire.Next(b)
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
