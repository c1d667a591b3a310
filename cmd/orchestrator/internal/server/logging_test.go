package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// TestLogUnary checks the line a unary call leaves at each logger level:
// none for a call whose level is off, else the middleware's message and
// fields.
func TestLogUnary(t *testing.T) {
	failed := fmt.Errorf("task t1: %w", status.Error(codes.NotFound, "OE0002: no such task"))
	for _, c := range []struct {
		name    string
		level   slog.Level
		err     error
		logged  bool
		code    string
		hasErr  bool
		message string
	}{
		{"success, info logger", slog.LevelInfo, nil, false, "", false, ""},
		{"success, debug logger", slog.LevelDebug, nil, true, "OK", false, "DEBUG"},
		{"client error, info logger", slog.LevelInfo, failed, true, "NotFound", true, "INFO"},
		{"client error, warn logger", slog.LevelWarn, failed, false, "", false, ""},
		{"server error, warn logger", slog.LevelWarn, status.Error(codes.Internal, "boom"), true, "Internal", true, "ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: c.level}))
			ctx := context.WithValue(context.Background(), requestIDKey{}, "rid")
			ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5}})
			info := &grpc.UnaryServerInfo{FullMethod: "/orchestrator.ComputeTaskService/GetTask"}
			resp, err := logUnary(l)(ctx, "req", info, func(context.Context, any) (any, error) { return "resp", c.err })
			if resp != "resp" || err != c.err {
				t.Fatalf("interceptor returned %v, %v", resp, err)
			}
			if !c.logged {
				if buf.Len() > 0 {
					t.Errorf("logged %s", buf.String())
				}
				return
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			for k, want := range map[string]any{
				"msg": "finished call", "level": c.message, "grpc.code": c.code, "grpc.service": "orchestrator.ComputeTaskService",
				"grpc.method": "GetTask", "grpc.method_type": "unary", "grpc.component": "server", "request_id": "rid", "peer.address": "127.0.0.1:5",
			} {
				if line[k] != want {
					t.Errorf("%s = %v, want %v (line %s)", k, line[k], want, buf.String())
				}
			}
			if _, ok := line["grpc.error"]; ok != c.hasErr {
				t.Errorf("grpc.error present %v (line %s)", ok, buf.String())
			}
			if c.err == failed && line["cause"] != "rpc error: code = NotFound desc = OE0002: no such task" {
				t.Errorf("cause = %v", line["cause"])
			}
			if _, ok := line["grpc.time_ms"]; !ok {
				t.Errorf("no grpc.time_ms (line %s)", buf.String())
			}
		})
	}
}
