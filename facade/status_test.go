package facade_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// wantCodes is the gRPC code of each kind, written out independently of the
// facade's table: the reference's mapping, plus our choices for the kinds it
// leaves to Unknown (OE0001, OE0108, OE0109, OE0110).
var wantCodes = map[orcerr.Kind]codes.Code{
	orcerr.ByteArray:              codes.InvalidArgument,
	orcerr.NotFound:               codes.NotFound,
	orcerr.BadRequest:             codes.FailedPrecondition,
	orcerr.Conflict:               codes.AlreadyExists,
	orcerr.Internal:               codes.Internal,
	orcerr.Unimplemented:          codes.Unimplemented,
	orcerr.InvalidAsset:           codes.InvalidArgument,
	orcerr.PermissionDenied:       codes.PermissionDenied,
	orcerr.IncompatibleTaskStatus: codes.InvalidArgument,
	orcerr.CannotDisableModel:     codes.InvalidArgument,
	orcerr.MissingTaskOutput:      codes.InvalidArgument,
	orcerr.IncompatibleKind:       codes.InvalidArgument,
	orcerr.CannotDisableOutput:    codes.InvalidArgument,
	orcerr.TerminatedComputePlan:  codes.FailedPrecondition,
	orcerr.TerminatedComputeTask:  codes.FailedPrecondition,
}

func TestKindCode(t *testing.T) {
	for _, k := range orcerr.Kinds() {
		want, ok := wantCodes[k]
		if !ok {
			t.Errorf("kind %s (%s) has no expected code in this test: decide one", k, k.Describe())
			continue
		}
		if got := facade.KindCode(k); got != want {
			t.Errorf("KindCode(%s) = %v, want %v", k, got, want)
		}
	}
	if got := facade.KindCode("OE0999"); got != codes.Unknown {
		t.Errorf("KindCode(OE0999) = %v, want Unknown", got)
	}
}

// TestErrorsOverGRPC checks what a caller sees when the invoker fails.
func TestErrorsOverGRPC(t *testing.T) {
	type tc struct {
		name     string
		err      error
		wantCode codes.Code
		wantMsg  string
	}
	var tests []tc
	for _, k := range orcerr.Kinds() {
		tests = append(tests, tc{
			name:     "kind " + string(k),
			err:      orcerr.New(k, "task %s: %s", "abc", k.Describe()),
			wantCode: wantCodes[k],
			wantMsg:  string(k) + ": task abc: " + k.Describe(),
		})
	}
	tests = append(tests,
		tc{"wrapped kind", fmt.Errorf("solo: %w", orcerr.Wrap(orcerr.NotFound, errors.New("no key"), "task abc")),
			codes.NotFound, "OE0002: task abc: no key"},
		tc{"kind in endorsement text", errors.New("endorsement failed: chaincode response 500, OE0104: task abc is DONE"),
			codes.InvalidArgument, "OE0104: task abc is DONE"},
		tc{"unknown code in text", errors.New("chaincode: OE0999: what"), codes.Unknown, "OE0999: what"},
		tc{"plain error", errors.New("open /var/lib/secret.db: permission denied"), codes.Internal, "internal error"},
		tc{"deadline", fmt.Errorf("wait for commit: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "context deadline exceeded"},
		tc{"canceled", context.Canceled, codes.Canceled, "context canceled"},
		tc{"conflict", fmt.Errorf("%w: key k changed 10 times", facade.ErrConflict), codes.Aborted, facade.ErrConflict.Error()},
		tc{"unavailable", fmt.Errorf("%w: dial peer0: refused", facade.ErrUnavailable), codes.Unavailable, facade.ErrUnavailable.Error()},
		tc{"backend status unavailable", fmt.Errorf("evaluate: %w", status.Error(codes.Unavailable, "peer0:7051 refused")), codes.Unavailable, facade.ErrUnavailable.Error()},
		tc{"backend status other", status.Error(codes.FailedPrecondition, "chaincode not installed on peer0"), codes.Internal, "internal error"},
	)
	var respond error
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) ([]byte, error) { return nil, respond }}
	conn := serve(t, inv, nil, false)
	client := protos.NewComputeTaskServiceClient(conn)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			respond = tt.err
			_, err := client.GetTask(context.Background(), &protos.GetTaskParam{Key: "abc"})
			st, ok := status.FromError(err)
			if !ok {
				t.Fatalf("error %v is not a status", err)
			}
			if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
				t.Errorf("status %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestBadResult(t *testing.T) {
	inv := &fakeInvoker{respond: func(context.Context, string, []byte) ([]byte, error) { return []byte{0xff, 0xff}, nil }}
	conn := serve(t, inv, nil, false)
	_, err := protos.NewComputeTaskServiceClient(conn).GetTask(context.Background(), &protos.GetTaskParam{Key: "abc"})
	if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Errorf("status %v %q, want Internal \"internal error\"", st.Code(), st.Message())
	}
}

// TestClientDeadline checks that the caller's deadline reaches the invoker.
func TestClientDeadline(t *testing.T) {
	inv := &fakeInvoker{respond: func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, fmt.Errorf("submit: %w", ctx.Err())
	}}
	conn := serve(t, inv, nil, false)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := protos.NewComputeTaskServiceClient(conn).RegisterTasks(ctx, &protos.RegisterTasksParam{})
	if code := status.Code(err); code != codes.DeadlineExceeded {
		t.Errorf("code %v (%v), want DeadlineExceeded", code, err)
	}
}

func TestStatusError(t *testing.T) {
	if facade.StatusError(nil) != nil || facade.Status(nil) != nil {
		t.Error("StatusError(nil) or Status(nil) is not nil")
	}
	cause := fmt.Errorf("read state: %w", errors.New("disk on fire"))
	err := facade.StatusError(cause)
	if !errors.Is(err, cause) {
		t.Error("StatusError does not wrap its cause")
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Errorf("status %v %q (%v)", st.Code(), st.Message(), ok)
	}
	if strings.Contains(err.Error(), "disk") {
		t.Errorf("error text %q leaks the cause", err)
	}
}
