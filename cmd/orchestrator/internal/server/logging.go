package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// HeaderRequestID is the request header whose value, when it is a sane
// token, becomes the request id of the call's log lines; otherwise the
// server makes one. The response headers carry it back.
const HeaderRequestID = "x-request-id"

type requestIDKey struct{}

// RequestID returns the request id of a call's context ("" outside a call).
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

var saneID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// newRequestID returns ctx with the call's request id (RequestID). It
// looks up the one header it needs rather than copying all of them
// (metadata.FromIncomingContext), which cost as much as the rest of it.
func newRequestID(ctx context.Context) (context.Context, string) {
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, HeaderRequestID); len(v) == 1 && saneID.MatchString(v[0]) {
		id = v[0]
	}
	if id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return context.WithValue(ctx, requestIDKey{}, id), id
}

func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, id := newRequestID(ctx)
	_ = grpc.SetHeader(ctx, metadata.Pairs(HeaderRequestID, id))
	return handler(ctx, req)
}

// requestIDStream also hands the request id to the middleware's logging
// interceptor, which logs streams (logUnary reads RequestID).
func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, id := newRequestID(ss.Context())
	ctx = logging.InjectFields(ctx, logging.Fields{"request_id", id})
	_ = ss.SetHeader(metadata.Pairs(HeaderRequestID, id))
	return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

// slogLogger adapts slog to the middleware's logging.Logger.
func slogLogger(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// callLevel logs successful calls at debug level (there may be thousands a
// second), client errors at info and server errors at error.
func callLevel(c codes.Code) logging.Level {
	switch c {
	case codes.OK:
		return logging.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented, codes.Unavailable:
		return logging.LevelError
	case codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return logging.LevelWarn
	default:
		return logging.LevelInfo
	}
}

func loggingOptions() []logging.Option {
	return []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithLevels(callLevel),
		// The facade's status errors keep their cause, which the caller
		// does not see (internal errors): log it.
		logging.WithErrorFields(func(err error) logging.Fields {
			if c := errors.Unwrap(err); c != nil && c.Error() != err.Error() {
				return logging.Fields{"cause", c.Error()}
			}
			return nil
		}),
	}
}

// logUnary logs the end of every unary call, as the middleware's
// interceptor does for streams: at the level callLevel gives its code,
// under the same message and field names. Unlike it, it builds the fields
// only when that level is enabled: successful calls are logged at debug
// level, usually off, and building their fields (the start time rendered,
// the peer's address, the context's fields merged) was about a twentieth
// of the CPU of a GetTask.
func logUnary(l *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		lvl := slog.Level(callLevel(code))
		if !l.Enabled(ctx, lvl) {
			return resp, err
		}
		service, method := splitMethod(info.FullMethod)
		fields := []any{
			"protocol", "grpc", "grpc.component", "server", "grpc.service", service, "grpc.method", method,
			"grpc.method_type", "unary", "request_id", RequestID(ctx),
		}
		if p, ok := peer.FromContext(ctx); ok {
			fields = append(fields, "peer.address", p.Addr.String())
		}
		fields = append(fields, "grpc.start_time", start.Format(time.RFC3339), "grpc.code", code.String())
		if err != nil {
			fields = append(fields, "grpc.error", err.Error())
			if c := errors.Unwrap(err); c != nil && c.Error() != err.Error() {
				fields = append(fields, "cause", c.Error())
			}
		}
		fields = append(fields, "grpc.time_ms", fmt.Sprintf("%v", float32(time.Since(start).Nanoseconds()/1000)/1000))
		l.Log(ctx, lvl, "finished call", fields...)
		return resp, err
	}
}

// splitMethod splits "/pkg.Service/Method".
func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// recoveryOption turns a panic in a handler into an Internal error and logs
// it with its stack.
func recoveryOption(l *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		l.ErrorContext(ctx, "panic in gRPC handler", "request_id", RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Errorf(codes.Internal, "OE0007: internal error (request id %s)", RequestID(ctx))
	})
}
