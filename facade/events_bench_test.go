package facade_test

import (
	"context"
	"iter"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
)

// serveStreams serves the EventService from streams on an in-memory
// listener, with testCaller as every stream's caller.
func serveStreams(t testing.TB, streams facade.EventStreams) *grpc.ClientConn {
	t.Helper()
	srv := grpc.NewServer(grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, &ctxStream{ServerStream: ss, ctx: facade.WithCaller(ss.Context(), testCaller)})
	}))
	facade.RegisterAll(srv, &fakeInvoker{}, streams)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// countedSource yields n small events, then stops.
type countedSource struct{ n int }

func (s countedSource) Subscribe(ctx context.Context, _, _ string) iter.Seq2[*protos.Event, error] {
	return func(yield func(*protos.Event, error) bool) {
		ev := &protos.Event{Id: "00000000-0000-4000-8000-000000000000", AssetKey: strings.Repeat("k", 200)}
		for range s.n {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// BenchmarkSubscribeReplay measures the events per second one
// subscription carries (the send path of SubscribeToEvents).
func BenchmarkSubscribeReplay(b *testing.B) {
	conn := serveStreams(b, facade.NewEventStreams(countedSource{n: b.N}))
	b.ResetTimer()
	stream, err := protos.NewEventServiceClient(conn).SubscribeToEvents(context.Background(), &protos.SubscribeToEventsParam{})
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if _, err := stream.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}
