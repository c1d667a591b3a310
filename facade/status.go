package facade

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// ErrConflict is wrapped by an invoker that gave up on a transaction because
// concurrent transactions kept changing what it read (an MVCC conflict that
// retries did not resolve). The caller gets codes.Aborted and may retry.
var ErrConflict = errors.New("transaction conflict, retry")

// ErrUnavailable is wrapped by an invoker that cannot reach its backend (a
// closed store, unreachable peers) and knows that the call wrote nothing.
// The caller gets codes.Unavailable and may retry.
var ErrUnavailable = errors.New("orchestrator backend unavailable, nothing was written; the call can be retried")

// ErrOutcomeUnknown is wrapped by an invoker whose write reached the point
// where it may have been committed, after which the backend failed: the
// write is either entirely there or entirely absent, and the invoker cannot
// tell which. The caller gets codes.Unavailable with a message that says so;
// a retry must be ready to find the first attempt committed (the asset keys
// make a re-sent registration a clear AlreadyExists).
var ErrOutcomeUnknown = errors.New("orchestrator backend unavailable, outcome of the write unknown")

// kindCodes is the gRPC code of each orchestration error kind. It follows the
// Substra orchestrator 1.0.0 for the kinds it maps; it maps ByteArray,
// CannotDisableOutput, TerminatedComputePlan and TerminatedComputeTask too,
// which the reference leaves to codes.Unknown.
var kindCodes = map[orcerr.Kind]codes.Code{
	orcerr.ByteArray:              codes.InvalidArgument, // reference: Unknown
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
	orcerr.CannotDisableOutput:    codes.InvalidArgument,    // reference: Unknown
	orcerr.TerminatedComputePlan:  codes.FailedPrecondition, // reference: Unknown
	orcerr.TerminatedComputeTask:  codes.FailedPrecondition, // reference: Unknown
}

// KindCode returns the gRPC code of an orchestration error kind, or
// codes.Unknown for a code that is not a known kind.
func KindCode(k orcerr.Kind) codes.Code {
	if c, ok := kindCodes[k]; ok {
		return c
	}
	return codes.Unknown
}

// internalMessage is all a caller learns of an error that has no kind.
const internalMessage = "internal error"

// Status returns the gRPC status that a caller gets for err (nil for nil):
//
//   - an orchestration error (an *orcerr.Error in err's chain, or an
//     "OExxxx: " code in its text) gets the code of its kind (KindCode) and
//     the message "OExxxx: <message>", without whatever a transport put
//     before the code;
//   - context.Canceled and context.DeadlineExceeded get Canceled and
//     DeadlineExceeded, ErrConflict gets Aborted, ErrOutcomeUnknown and
//     ErrUnavailable get Unavailable (with different messages);
//   - an error that carries a gRPC status (from a backend's client) keeps the
//     code Canceled, DeadlineExceeded or Unavailable, with a generic message;
//   - anything else is a bug: Internal with a generic message, so internals do
//     not leak (log the error itself on the server side).
func Status(err error) *status.Status {
	if err == nil {
		return nil
	}
	var oe *orcerr.Error
	if errors.As(err, &oe) {
		return status.New(KindCode(oe.Kind), oe.Error())
	}
	if kind, msg, ok := orcerr.Parse(err.Error()); ok {
		return status.New(KindCode(kind), string(kind)+": "+msg)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, context.Canceled.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
	case errors.Is(err, ErrConflict):
		return status.New(codes.Aborted, ErrConflict.Error())
	case errors.Is(err, ErrOutcomeUnknown):
		return status.New(codes.Unavailable, ErrOutcomeUnknown.Error())
	case errors.Is(err, ErrUnavailable):
		return status.New(codes.Unavailable, ErrUnavailable.Error())
	}
	// A backend's own gRPC status (a Fabric gateway's) passes on only the
	// codes that say nothing about the backend's internals.
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		switch c := gs.GRPCStatus().Code(); c {
		case codes.Canceled, codes.DeadlineExceeded:
			return status.New(c, c.String())
		case codes.Unavailable:
			return status.New(c, ErrUnavailable.Error())
		}
	}
	return status.New(codes.Internal, internalMessage)
}

// StatusError returns err as the error a gRPC handler returns: its status is
// Status(err), and it still wraps err (errors.Is, errors.As and errors.Unwrap
// reach it), so that interceptors can log the cause. It returns nil for nil.
func StatusError(err error) error {
	if err == nil {
		return nil
	}
	return &statusError{st: Status(err), cause: err}
}

// statusError is a gRPC status that remembers the error it was made from.
type statusError struct {
	st    *status.Status
	cause error
}

// Error returns the status text, as status.Error would.
func (e *statusError) Error() string { return e.st.Err().Error() }

// GRPCStatus lets grpc and status.FromError find the status.
func (e *statusError) GRPCStatus() *status.Status { return e.st }

// Unwrap returns the error the status was made from.
func (e *statusError) Unwrap() error { return e.cause }
