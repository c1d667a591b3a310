package facade

import (
	"context"
	"errors"
	"iter"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
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

// DefaultSendTimeout is how long a subscriber may leave the server unable
// to send it anything before its stream is cut (WithSendTimeout).
const DefaultSendTimeout = 30 * time.Second

// sendQueue is how many events wait for a slow subscriber, on top of what
// gRPC's flow-control window holds.
const sendQueue = 64

// EventStreamsOption configures NewEventStreams.
type EventStreamsOption func(*eventStreams)

// WithSendTimeout sets how long a subscriber that reads nothing (its flow
// control window and the server's small queue are full) keeps its stream:
// after d the stream ends with codes.ResourceExhausted and a message naming
// the last event sent, from which the subscriber resumes. Default
// DefaultSendTimeout; d <= 0 keeps the default.
func WithSendTimeout(d time.Duration) EventStreamsOption {
	return func(e *eventStreams) {
		if d > 0 {
			e.sendTimeout = d
		}
	}
}

// NewEventStreams returns the EventService streaming methods served from
// src. SubscribeToEvents streams the events of the caller's channel (see
// CallerFrom) after the request's start_event_id. It returns when the caller
// goes away or src yields an error; if src stops without one, the stream ends
// with codes.Unavailable so that the caller resumes elsewhere. A subscriber
// too slow to take the events is cut off (WithSendTimeout) rather than let
// the server buffer for it.
func NewEventStreams(src EventSource, opts ...EventStreamsOption) EventStreams {
	e := eventStreams{src: src, sendTimeout: DefaultSendTimeout}
	for _, o := range opts {
		o(&e)
	}
	return e
}

type eventStreams struct {
	src         EventSource
	sendTimeout time.Duration
}

// errNoCaller reports a server whose interceptors did not set the Caller.
var errNoCaller = errors.New("facade: no Caller in the stream context")

// SubscribeToEvents reads the source in the handler's goroutine and sends
// from another, through a small queue: when the queue stays full for the
// send timeout, the subscriber is not reading, and the handler ends the
// stream (which also ends the blocked send).
func (e eventStreams) SubscribeToEvents(req *protos.SubscribeToEventsParam, stream grpc.ServerStreamingServer[protos.Event]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	c, ok := CallerFrom(ctx)
	if !ok {
		return StatusError(errNoCaller)
	}
	queue := make(chan *protos.Event, sendQueue)
	sent := make(chan error, 1)
	var last atomic.Pointer[protos.Event] // the last event handed to gRPC
	go func() {
		for ev := range queue {
			if err := stream.Send(ev); err != nil {
				sent <- err
				return
			}
			last.Store(ev)
		}
		sent <- nil
	}()
	timer := time.NewTimer(e.sendTimeout)
	defer timer.Stop()
	tooSlow := func() error {
		from := req.GetStartEventId()
		if ev := last.Load(); ev != nil {
			from = eventID(ev)
		}
		if from == "" {
			return status.Errorf(codes.ResourceExhausted, "subscriber too slow: it read nothing for %v; resubscribe from the beginning", e.sendTimeout)
		}
		return status.Errorf(codes.ResourceExhausted, "subscriber too slow: it read nothing for %v; resume from event %s (start_event_id)", e.sendTimeout, from)
	}
	// wait waits for the queue to drain and returns the sender's error.
	wait := func(end error) error {
		close(queue)
		timer.Reset(e.sendTimeout)
		select {
		case err := <-sent:
			if err != nil {
				return err
			}
			return end
		case <-timer.C:
			return tooSlow()
		}
	}
	for ev, err := range e.src.Subscribe(ctx, c.Channel, req.GetStartEventId()) {
		if err != nil {
			return wait(StatusError(err))
		}
		select {
		case queue <- ev:
			continue
		default:
		}
		timer.Reset(e.sendTimeout)
		select {
		case queue <- ev:
		case err := <-sent: // the subscriber went away
			return err
		case <-timer.C:
			return tooSlow()
		}
	}
	if err := ctx.Err(); err != nil {
		return wait(StatusError(err))
	}
	return wait(StatusError(ErrUnavailable))
}

// eventID returns the id of an event, decoded or in the wire form that a
// source may yield (the fields left unknown).
func eventID(ev *protos.Event) string {
	if id := ev.GetId(); id != "" {
		return id
	}
	return eventwire.ID(ev.ProtoReflect().GetUnknown())
}
