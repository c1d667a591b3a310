package facade_test

import (
	"context"
	"fmt"
	"iter"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// versionInvoker answers the InfoService's transaction and fails all others.
type versionInvoker struct{}

func (versionInvoker) Evaluate(_ context.Context, tx string, _ []byte) ([]byte, error) {
	if tx == "orchestrator.info:QueryVersion" {
		return proto.Marshal(&protos.QueryVersionResponse{Orchestrator: "1.0.0"})
	}
	return nil, orcerr.New(orcerr.Unimplemented, "%s is not served here", tx)
}

func (versionInvoker) Submit(_ context.Context, tx string, _ []byte) ([]byte, error) {
	return nil, orcerr.New(orcerr.Unimplemented, "%s is not served here", tx)
}

// noEvents is an EventSource without events.
type noEvents struct{}

func (noEvents) Subscribe(ctx context.Context, _, _ string) iter.Seq2[*protos.Event, error] {
	return func(yield func(*protos.Event, error) bool) {
		<-ctx.Done()
		yield(nil, ctx.Err())
	}
}

// ExampleRegisterAll serves the whole API from one Invoker and calls it.
func ExampleRegisterAll() {
	srv := grpc.NewServer()
	facade.RegisterAll(srv, versionInvoker{}, facade.NewEventStreams(noEvents{}))
	lis := bufconn.Listen(1 << 16)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///orchestrator",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	ctx := context.Background()
	v, err := protos.NewInfoServiceClient(conn).QueryVersion(ctx, &protos.QueryVersionParam{})
	fmt.Println(v.GetOrchestrator(), err)
	_, err = protos.NewComputeTaskServiceClient(conn).GetTask(ctx, &protos.GetTaskParam{Key: "abc"})
	st := status.Convert(err)
	fmt.Println(st.Code(), st.Message())
	// Output:
	// 1.0.0 <nil>
	// Unimplemented OE0010: orchestrator.computetask:GetTask is not served here
}

// ExampleStatus shows what callers get for invoker errors.
func ExampleStatus() {
	for _, err := range []error{
		orcerr.New(orcerr.NotFound, "compute task %s not found", "abc"),
		fmt.Errorf("endorse: chaincode response 500, %w", orcerr.New(orcerr.InvalidAsset, "key is not a UUID")),
		fmt.Errorf("commit: %w", facade.ErrConflict),
		fmt.Errorf("commit: %w", context.DeadlineExceeded),
		fmt.Errorf("open state db: %s", "permission denied"),
	} {
		st := facade.Status(err)
		fmt.Printf("%v: %s\n", st.Code(), st.Message())
	}
	// Output:
	// NotFound: OE0002: compute task abc not found
	// InvalidArgument: OE0101: key is not a UUID
	// Aborted: transaction conflict, retry
	// DeadlineExceeded: context deadline exceeded
	// Internal: internal error
}
