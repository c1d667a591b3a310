package facade_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
)

// endlessSource yields events of about 1 KB without end, counting them.
type endlessSource struct{ yielded atomic.Int64 }

func (s *endlessSource) Subscribe(ctx context.Context, _, _ string) iter.Seq2[*protos.Event, error] {
	return func(yield func(*protos.Event, error) bool) {
		for i := 0; ; i++ {
			if ctx.Err() != nil {
				yield(nil, ctx.Err())
				return
			}
			s.yielded.Add(1)
			if !yield(&protos.Event{Id: fmt.Sprintf("ev%d", i), AssetKey: strings.Repeat("k", 1000)}, nil) {
				return
			}
		}
	}
}

// TestSlowSubscriberCutOff: a subscriber that stops reading is cut off
// with ResourceExhausted naming the last event sent, which is the last one
// it then receives; the server produced a bounded number of events for it.
func TestSlowSubscriberCutOff(t *testing.T) {
	src := &endlessSource{}
	conn := serveStreams(t, facade.NewEventStreams(src, facade.WithSendTimeout(200*time.Millisecond)))
	stream, err := protos.NewEventServiceClient(conn).SubscribeToEvents(context.Background(), &protos.SubscribeToEventsParam{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil { // the stream is open
		t.Fatal(err)
	}
	// Read nothing until the server gives up: its production stops.
	deadline := time.Now().Add(10 * time.Second)
	for prev := int64(-1); ; {
		time.Sleep(300 * time.Millisecond)
		n := src.yielded.Load()
		if n == prev {
			break
		}
		prev = n
		if time.Now().After(deadline) {
			t.Fatalf("the server kept producing events for a subscriber that reads nothing (%d)", n)
		}
	}
	// Flow-control windows (64 KiB per stream and connection by default,
	// plus gRPC's write quota) and the queue hold at most a few hundred
	// 1 KB events.
	if n := src.yielded.Load(); n > 1000 {
		t.Errorf("%d events produced for a stalled subscriber: the server buffers without bound", n)
	}
	var lastID string
	for {
		ev, err := stream.Recv()
		if err != nil {
			st := status.Convert(err)
			if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "subscriber too slow") {
				t.Fatalf("stream ended with %v, want ResourceExhausted: subscriber too slow", err)
			}
			if want := "resume from event " + lastID + " "; !strings.Contains(st.Message(), want) {
				t.Fatalf("message %q does not name the last event received (%s)", st.Message(), lastID)
			}
			return
		}
		lastID = ev.GetId()
	}
}

// TestSubscriberThatReadsKeepsItsStream: a subscriber that reads steadily is
// not cut off, however long the stream.
func TestSubscriberThatReadsKeepsItsStream(t *testing.T) {
	conn := serveStreams(t, facade.NewEventStreams(&endlessSource{}, facade.WithSendTimeout(2*time.Second)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := protos.NewEventServiceClient(conn).SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20000 {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := fmt.Sprintf("ev%d", i); ev.GetId() != want {
			t.Fatalf("event %d is %s", i, ev.GetId())
		}
	}
}
