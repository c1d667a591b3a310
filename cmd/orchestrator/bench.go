package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/server"
	"github.com/fedchain/orchestrator/loadtest"
)

const benchSynopsis = `Drive a realistic workload over gRPC against a running orchestrator (any
server of this API) and report per-phase throughput and latency: progress
lines and a table, then one JSON line on stdout. The exit status is 1 when
any call or check failed. With --self, the run starts its own solo server
(embedded store in a temporary folder) in this process and loads it.`

// runBench runs the load test (package loadtest).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", benchSynopsis, stderr)
	cfg := loadtest.DefaultConfig()
	cfg.RegisterFlags(fs)
	self := fs.Bool("self", false, "start a solo server (temporary embedded store, free port) in this process and load it; --addr is ignored")
	noSync := fs.Bool("self-unsafe-no-sync", false, "with --self: do not fsync the store (measures everything but the disk)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *self {
		addr, stop, err := serveSelf(ctx, stderr, *noSync)
		if err != nil {
			return err
		}
		defer stop()
		cfg.Addr = addr
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	_, err := loadtest.Run(ctx, cfg, stdout)
	return err
}

// serveSelf starts a solo server on a free loopback port over a temporary
// embedded store. stop shuts it down and removes the store.
func serveSelf(ctx context.Context, stderr io.Writer, noSync bool) (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "orchestrator-bench-")
	if err != nil {
		return "", nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	metrics := server.NewMetrics()
	f := &soloFlags{data: dir, maxRetries: 20, unsafeNoSync: noSync}
	b, err := openSolo(ctx, f, metrics.Registry, nil)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	srv, err := server.New(server.Options{
		Listen: "127.0.0.1:0", Logger: log, Metrics: metrics, MaxMessageBytes: 16 << 20, MaxPageSize: 10000,
		Register: b.register, Bind: b.bind,
	})
	if err != nil {
		b.close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	fmt.Fprintf(stderr, "bench: solo server on %s, store in %s (fsync %v)\n", srv.Addr(), dir, !noSync)
	return srv.Addr().String(), func() {
		cancel()
		err := errors.Join(<-done, b.close())
		if err != nil {
			fmt.Fprintf(stderr, "bench: stop the server: %v\n", err)
		}
		os.RemoveAll(dir)
	}, nil
}
