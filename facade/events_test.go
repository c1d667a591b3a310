package facade_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// fakeSource yields events, then err (if any), then waits for ctx when
// wait is set.
type fakeSource struct {
	events []*protos.Event
	err    error
	wait   bool

	gotChannel, gotAfter chan string
}

func (s *fakeSource) Subscribe(ctx context.Context, channel, afterID string) iter.Seq2[*protos.Event, error] {
	s.gotChannel <- channel
	s.gotAfter <- afterID
	return func(yield func(*protos.Event, error) bool) {
		for _, ev := range s.events {
			if !yield(ev, nil) {
				return
			}
		}
		if s.err != nil {
			yield(nil, s.err)
			return
		}
		if s.wait {
			<-ctx.Done()
			yield(nil, ctx.Err())
		}
	}
}

func TestSubscribeToEvents(t *testing.T) {
	events := []*protos.Event{
		{Id: "ev1", AssetKey: "k1", Channel: "mychannel", EventKind: protos.EventKind_EVENT_ASSET_CREATED},
		{Id: "ev2", AssetKey: "k2", Channel: "mychannel", EventKind: protos.EventKind_EVENT_ASSET_UPDATED},
	}
	tests := []struct {
		name     string
		src      *fakeSource
		noCaller bool
		want     int // events received before the end
		wantCode codes.Code
		wantMsg  string
		cancel   bool // cancel the call after the events
	}{
		{name: "source error", src: &fakeSource{events: events, err: orcerr.New(orcerr.NotFound, "event ev0 not found")},
			want: 2, wantCode: codes.NotFound, wantMsg: "OE0002: event ev0 not found"},
		{name: "store outage mid-stream", src: &fakeSource{events: events, err: fmt.Errorf("SubscribeToEvents: %w: couchdb down", facade.ErrUnavailable)},
			want: 2, wantCode: codes.Unavailable, wantMsg: facade.ErrUnavailable.Error()},
		{name: "source stops", src: &fakeSource{events: events}, want: 2, wantCode: codes.Unavailable, wantMsg: facade.ErrUnavailable.Error()},
		{name: "caller goes away", src: &fakeSource{events: events, wait: true}, want: 2, cancel: true, wantCode: codes.Canceled},
		{name: "no caller", src: &fakeSource{events: events}, noCaller: true, wantCode: codes.Internal, wantMsg: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.gotChannel, tt.src.gotAfter = make(chan string, 1), make(chan string, 1)
			conn := serve(t, &fakeInvoker{}, tt.src, tt.noCaller)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := protos.NewEventServiceClient(conn).SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{StartEventId: "ev0"})
			if err != nil {
				t.Fatal(err)
			}
			var got []*protos.Event
			for len(got) < tt.want {
				ev, err := stream.Recv()
				if err != nil {
					t.Fatalf("after %d events: %v", len(got), err)
				}
				got = append(got, ev)
			}
			for i := range got {
				if !proto.Equal(got[i], events[i]) {
					t.Errorf("event %d = %v, want %v", i, got[i], events[i])
				}
			}
			if tt.cancel {
				cancel()
			}
			_, err = stream.Recv()
			if errors.Is(err, io.EOF) {
				t.Fatal("stream ended without an error")
			}
			st := status.Convert(err)
			if st.Code() != tt.wantCode || (tt.wantMsg != "" && st.Message() != tt.wantMsg) {
				t.Errorf("stream ended with %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if tt.noCaller {
				return
			}
			if ch, after := <-tt.src.gotChannel, <-tt.src.gotAfter; ch != testCaller.Channel || after != "ev0" {
				t.Errorf("Subscribe(channel %q, after %q), want (%q, %q)", ch, after, testCaller.Channel, "ev0")
			}
		})
	}
}

func TestCaller(t *testing.T) {
	if _, ok := facade.CallerFrom(context.Background()); ok {
		t.Error("CallerFrom(empty context) reports a caller")
	}
	want := facade.Caller{MSPID: "Org2MSP", Channel: "ch2"}
	got, ok := facade.CallerFrom(facade.WithCaller(context.Background(), want))
	if !ok || got != want {
		t.Errorf("CallerFrom = %+v, %v; want %+v", got, ok, want)
	}
}
