package facade_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/txoption"
)

// clients are the generated gRPC clients, by service.
var clients = map[protoreflect.FullName]func(grpc.ClientConnInterface) any{
	"orchestrator.ComputePlanService":   func(c grpc.ClientConnInterface) any { return protos.NewComputePlanServiceClient(c) },
	"orchestrator.ComputeTaskService":   func(c grpc.ClientConnInterface) any { return protos.NewComputeTaskServiceClient(c) },
	"orchestrator.DataManagerService":   func(c grpc.ClientConnInterface) any { return protos.NewDataManagerServiceClient(c) },
	"orchestrator.DataSampleService":    func(c grpc.ClientConnInterface) any { return protos.NewDataSampleServiceClient(c) },
	"orchestrator.DatasetService":       func(c grpc.ClientConnInterface) any { return protos.NewDatasetServiceClient(c) },
	"orchestrator.EventService":         func(c grpc.ClientConnInterface) any { return protos.NewEventServiceClient(c) },
	"orchestrator.FailureReportService": func(c grpc.ClientConnInterface) any { return protos.NewFailureReportServiceClient(c) },
	"orchestrator.FunctionService":      func(c grpc.ClientConnInterface) any { return protos.NewFunctionServiceClient(c) },
	"orchestrator.InfoService":          func(c grpc.ClientConnInterface) any { return protos.NewInfoServiceClient(c) },
	"orchestrator.ModelService":         func(c grpc.ClientConnInterface) any { return protos.NewModelServiceClient(c) },
	"orchestrator.OrganizationService":  func(c grpc.ClientConnInterface) any { return protos.NewOrganizationServiceClient(c) },
	"orchestrator.PerformanceService":   func(c grpc.ClientConnInterface) any { return protos.NewPerformanceServiceClient(c) },
	"orchestrator.ProfilingService":     func(c grpc.ClientConnInterface) any { return protos.NewProfilingServiceClient(c) },
}

// method returns the descriptor of the gRPC method "/pkg.Service/Method".
func method(t *testing.T, fullMethod string) protoreflect.MethodDescriptor {
	t.Helper()
	svc, name, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		t.Fatalf("bad full method %q", fullMethod)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		t.Fatalf("%s: %v", fullMethod, err)
	}
	m := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(name))
	if m == nil {
		t.Fatalf("%s: no such method", fullMethod)
	}
	return m
}

// invokeClient calls fullMethod through its generated client and returns the
// response and error.
func invokeClient(t *testing.T, conn *grpc.ClientConn, ctx context.Context, fullMethod string, req proto.Message) (proto.Message, error) {
	t.Helper()
	md := method(t, fullMethod)
	newClient, ok := clients[md.Parent().FullName()]
	if !ok {
		t.Fatalf("no client for %s in the test's table", md.Parent().FullName())
	}
	fn := reflect.ValueOf(newClient(conn)).MethodByName(string(md.Name()))
	if !fn.IsValid() {
		t.Fatalf("client of %s has no method %s", md.Parent().FullName(), md.Name())
	}
	out := fn.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)})
	err, _ := out[1].Interface().(error)
	if err != nil {
		return nil, err
	}
	return out[0].Interface().(proto.Message), nil
}

// newMessage returns a new message of the given type, with a string field
// somewhere in it (descending into message fields) set to mark.
func newMessage(t *testing.T, name protoreflect.FullName, mark string) (proto.Message, bool) {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		t.Fatal(err)
	}
	m := mt.New()
	return m.Interface(), mark1(m, mark, 0)
}

// mark1 sets a string somewhere in m to mark and reports whether it found one.
func mark1(m protoreflect.Message, mark string, depth int) bool {
	if depth > 4 {
		return false
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			if fd.MapKey().Kind() == protoreflect.StringKind && fd.MapValue().Kind() == protoreflect.StringKind {
				m.Mutable(fd).Map().Set(protoreflect.ValueOfString(mark).MapKey(), protoreflect.ValueOfString(mark))
				return true
			}
		case fd.IsList():
			switch fd.Kind() {
			case protoreflect.StringKind:
				m.Mutable(fd).List().Append(protoreflect.ValueOfString(mark))
				return true
			case protoreflect.MessageKind:
				l := m.Mutable(fd).List()
				e := l.NewElement()
				if mark1(e.Message(), mark, depth+1) {
					l.Append(e)
					return true
				}
				m.Clear(fd)
			}
		case fd.Kind() == protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(mark))
			return true
		case fd.Kind() == protoreflect.MessageKind:
			sub := m.NewField(fd)
			if mark1(sub.Message(), mark, depth+1) {
				m.Set(fd, sub)
				return true
			}
		}
	}
	return false
}

// TestEveryTransaction calls every unary method of the API through its
// generated client and checks that the facade runs the right transaction,
// the right way, with the request as argument, and returns its result.
func TestEveryTransaction(t *testing.T) {
	responses := map[string][]byte{}
	inv := &fakeInvoker{respond: func(_ context.Context, tx string, _ []byte) ([]byte, error) {
		return responses[tx], nil
	}}
	conn := serve(t, inv, nil, false)

	for _, tx := range facade.Transactions() {
		t.Run(tx.Name, func(t *testing.T) {
			md := method(t, tx.FullMethod)
			req, marked := newMessage(t, md.Input().FullName(), "req "+tx.Name)
			if !marked && md.Input().Fields().Len() > 0 {
				t.Fatalf("could not mark request %s", md.Input().FullName())
			}
			wantResp, _ := newMessage(t, md.Output().FullName(), "resp "+tx.Name)
			b, err := proto.Marshal(wantResp)
			if err != nil {
				t.Fatal(err)
			}
			responses[tx.Name] = b

			gotResp, err := invokeClient(t, conn, context.Background(), tx.FullMethod, req)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(gotResp, wantResp) {
				t.Errorf("response %v, want %v", gotResp, wantResp)
			}
			calls := inv.takeCalls()
			if len(calls) != 1 {
				t.Fatalf("%d transactions, want 1", len(calls))
			}
			c := calls[0]
			if c.tx != tx.Name || c.kind != tx.Kind {
				t.Errorf("ran %s %q, want %s %q", c.kind, c.tx, tx.Kind, tx.Name)
			}
			gotReq := req.ProtoReflect().Type().New().Interface()
			if err := proto.Unmarshal(c.arg, gotReq); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(gotReq, req) {
				t.Errorf("argument %v, want %v", gotReq, req)
			}
			if !c.ok || c.caller != testCaller {
				t.Errorf("invoker saw caller %+v (%v), want %+v", c.caller, c.ok, testCaller)
			}
		})
	}
}

// TestTransactionsMatchProtos checks Transactions against the method options
// of the protos: every SUBMIT or EVALUATE method is there with its kind and
// transaction name, and nothing else is.
func TestTransactionsMatchProtos(t *testing.T) {
	want := map[string]facade.Transaction{}
	protoregistry.GlobalFiles.RangeFilesByPackage("orchestrator", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				tx := facade.Transaction{Name: txoption.TransactionName(m), FullMethod: "/" + string(svc.FullName()) + "/" + string(m.Name())}
				switch txoption.MethodKind(m) {
				case txoption.Kind_SUBMIT:
					tx.Kind = facade.Submit
				case txoption.Kind_EVALUATE:
					tx.Kind = facade.Evaluate
				case txoption.Kind_STREAM:
					continue
				default:
					t.Errorf("%s has no kind", m.FullName())
				}
				want[tx.Name] = tx
			}
		}
		return true
	})
	got := facade.Transactions()
	if len(got) != len(want) {
		t.Errorf("%d transactions, the protos have %d", len(got), len(want))
	}
	for i, tx := range got {
		if w, ok := want[tx.Name]; !ok || w != tx {
			t.Errorf("Transactions()[%d] = %+v, the protos say %+v", i, tx, w)
		}
		if i > 0 && got[i-1].Name >= tx.Name {
			t.Errorf("Transactions() not sorted at %q", tx.Name)
		}
	}
	if len(got) != 39 {
		t.Errorf("%d transactions; the API has 39 unary methods", len(got))
	}
	got[0].Name = "changed"
	if facade.Transactions()[0].Name == "changed" {
		t.Error("Transactions returns a shared slice")
	}
}

func TestNewEventServerNeedsStreams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewEventServer(inv, nil) did not panic")
		}
	}()
	facade.NewEventServer(&fakeInvoker{}, nil)
}

func TestTxKindString(t *testing.T) {
	for k, want := range map[facade.TxKind]string{facade.Submit: "submit", facade.Evaluate: "evaluate", 0: "TxKind(invalid)"} {
		if got := k.String(); got != want {
			t.Errorf("TxKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
