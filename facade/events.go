package facade

import (
	"context"
	"errors"
	"iter"

	"google.golang.org/grpc"

	"github.com/fedchain/orchestrator/protos"
)

// EventSource reads the orchestrator events of a channel in commit order. The
// solo peer and the Fabric gateway each provide one.
type EventSource interface {
	// Subscribe returns the events of channel that follow the event whose id
	// is afterID (all of them when afterID is ""), then each new event as it
	// is committed, until ctx is done. It yields an error, and stops, when it
	// cannot go on: ctx's error once ctx is done, an orcerr.NotFound error
	// when afterID names no event of channel.
	Subscribe(ctx context.Context, channel, afterID string) iter.Seq2[*protos.Event, error]
}

// NewEventStreams returns the EventService streaming methods served from
// src. SubscribeToEvents streams the events of the caller's channel (see
// CallerFrom) after the request's start_event_id. It returns when the caller
// goes away or src yields an error; if src stops without one, the stream ends
// with codes.Unavailable so that the caller resumes elsewhere.
func NewEventStreams(src EventSource) EventStreams {
	return eventStreams{src: src}
}

type eventStreams struct{ src EventSource }

// errNoCaller reports a server whose interceptors did not set the Caller.
var errNoCaller = errors.New("facade: no Caller in the stream context")

func (e eventStreams) SubscribeToEvents(req *protos.SubscribeToEventsParam, stream grpc.ServerStreamingServer[protos.Event]) error {
	ctx := stream.Context()
	c, ok := CallerFrom(ctx)
	if !ok {
		return StatusError(errNoCaller)
	}
	for ev, err := range e.src.Subscribe(ctx, c.Channel, req.GetStartEventId()) {
		if err != nil {
			return StatusError(err)
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return StatusError(err)
	}
	return StatusError(ErrUnavailable)
}
