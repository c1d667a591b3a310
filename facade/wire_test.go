package facade_test

import (
	"bytes"
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
)

// serveWith is serve with the given unary interceptor (which must set the
// caller) and the given server options.
func serveWith(t *testing.T, inv facade.Invoker, icpt grpc.UnaryServerInterceptor, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	srv := grpc.NewServer(append(opts, grpc.UnaryInterceptor(icpt))...)
	facade.RegisterAll(srv, inv, facade.NewEventStreams(nil))
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

// The interceptors see the decoded request and what they change is what
// the transaction gets; the client gets the result the contract encoded,
// byte for byte.
func TestWireHandlersKeepRequestsAndResults(t *testing.T) {
	page := &protos.QueryTasksResponse{NextPageToken: "next", Tasks: []*protos.ComputeTask{
		{Key: "t1", Owner: "Org1MSP", Rank: 3, CreationDate: timestamppb.New(timestamppb.Now().AsTime()), Metadata: map[string]string{"a": "b"}},
		{Key: "t2", Status: protos.ComputeTaskStatus_STATUS_DONE},
	}}
	result, err := proto.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var sawReq any
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) ([]byte, error) { return result, nil }}
	conn := serveWith(t, inv, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		sawReq = req
		if q, ok := req.(*protos.QueryTasksParam); ok && q.PageSize == 0 {
			q.PageSize = 50 // as the server's page-size limit does
		}
		if info.FullMethod != "/orchestrator.ComputeTaskService/QueryTasks" {
			t.Errorf("interceptor info: method %q", info.FullMethod)
		}
		resp, err := h(facade.WithCaller(ctx, testCaller), req)
		// The response holds the result as it is: nothing was decoded
		// to be encoded again.
		if m, ok := resp.(proto.Message); err == nil && (!ok || !bytes.Equal(m.ProtoReflect().GetUnknown(), result)) {
			t.Errorf("the handler's response %T is not the result in wire form", resp)
		}
		return resp, err
	})
	got, err := protos.NewComputeTaskServiceClient(conn).QueryTasks(context.Background(), &protos.QueryTasksParam{PageToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, page) {
		t.Errorf("client got %v, want %v", got, page)
	}
	if q, ok := sawReq.(*protos.QueryTasksParam); !ok || q.GetPageToken() != "tok" {
		t.Errorf("interceptor saw request %T %v", sawReq, sawReq)
	}
	calls := inv.takeCalls()
	if len(calls) != 1 || calls[0].tx != "orchestrator.computetask:QueryTasks" || calls[0].kind != facade.Evaluate {
		t.Fatalf("calls %+v", calls)
	}
	var arg protos.QueryTasksParam
	if err := proto.Unmarshal(calls[0].arg, &arg); err != nil || arg.PageSize != 50 || arg.PageToken != "tok" {
		t.Errorf("transaction argument %v (%v), want the interceptor's page size 50 and token tok", &arg, err)
	}
}

// A result that is no protobuf message is an Internal error, not bytes a
// client cannot decode; an invoker's error keeps its code; an empty result
// is an empty message.
func TestWireHandlerResults(t *testing.T) {
	tests := []struct {
		name   string
		result []byte
		err    error
		code   codes.Code
	}{
		{"empty", []byte{}, nil, codes.OK},
		{"truncated", []byte{0x0a, 0x05, 'a'}, nil, codes.Internal},
		{"bad tag", []byte{0x00}, nil, codes.Internal},
		{"not found", nil, facade.StatusError(status.Error(codes.NotFound, "OE0002: no task")), codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{respond: func(context.Context, string, []byte) ([]byte, error) { return tt.result, tt.err }}
			conn := serveWith(t, inv, func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				return h(facade.WithCaller(ctx, testCaller), req)
			})
			got, err := protos.NewComputeTaskServiceClient(conn).GetTask(context.Background(), &protos.GetTaskParam{Key: "k"})
			if status.Code(err) != tt.code {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.code)
			}
			if err == nil && !proto.Equal(got, &protos.ComputeTask{}) {
				t.Errorf("got %v, want an empty task", got)
			}
		})
	}
}

// The typed methods of the servers, for in-process callers, still return
// decoded messages.
func TestTypedMethodsDecode(t *testing.T) {
	want := &protos.ComputeTask{Key: "t1", Rank: 2}
	b, _ := proto.Marshal(want)
	srv := facade.NewComputeTaskServer(&fakeInvoker{respond: func(context.Context, string, []byte) ([]byte, error) { return b, nil }})
	got, err := srv.GetTask(facade.WithCaller(context.Background(), testCaller), &protos.GetTaskParam{Key: "t1"})
	if err != nil || got.GetKey() != "t1" || got.GetRank() != 2 {
		t.Fatalf("GetTask = %v, %v", got, err)
	}
}
