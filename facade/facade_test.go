package facade_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/fedchain/orchestrator/facade"
)

// call is one transaction that the fake invoker ran.
type call struct {
	kind   facade.TxKind
	tx     string
	arg    []byte
	caller facade.Caller
	ok     bool // the context carried a Caller
}

// fakeInvoker records the transactions it runs and answers with respond.
type fakeInvoker struct {
	respond func(ctx context.Context, tx string, arg []byte) ([]byte, error)

	mu    sync.Mutex
	calls []call
}

func (f *fakeInvoker) Submit(ctx context.Context, tx string, arg []byte) ([]byte, error) {
	return f.run(ctx, facade.Submit, tx, arg)
}

func (f *fakeInvoker) Evaluate(ctx context.Context, tx string, arg []byte) ([]byte, error) {
	return f.run(ctx, facade.Evaluate, tx, arg)
}

func (f *fakeInvoker) run(ctx context.Context, kind facade.TxKind, tx string, arg []byte) ([]byte, error) {
	c, ok := facade.CallerFrom(ctx)
	f.mu.Lock()
	f.calls = append(f.calls, call{kind: kind, tx: tx, arg: append([]byte(nil), arg...), caller: c, ok: ok})
	f.mu.Unlock()
	return f.respond(ctx, tx, arg)
}

// takeCalls returns the calls recorded so far and forgets them.
func (f *fakeInvoker) takeCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// testCaller is what the test server's interceptors put in every context.
var testCaller = facade.Caller{MSPID: "Org1MSP", Channel: "mychannel"}

// serve starts a gRPC server on an in-memory listener with every service
// registered by RegisterAll, and returns a client connection to it. Like the
// real server, its interceptors set the Caller (unless noCaller).
func serve(t *testing.T, inv facade.Invoker, src facade.EventSource, noCaller bool) *grpc.ClientConn {
	t.Helper()
	withCaller := func(ctx context.Context) context.Context {
		if noCaller {
			return ctx
		}
		return facade.WithCaller(ctx, testCaller)
	}
	srv := grpc.NewServer(
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			return h(withCaller(ctx), req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return h(srv, &ctxStream{ServerStream: ss, ctx: withCaller(ss.Context())})
		}),
	)
	facade.RegisterAll(srv, inv, facade.NewEventStreams(src))
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

// ctxStream is a ServerStream with another context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }
