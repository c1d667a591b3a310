package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/server"
)

// serveFlags are the flags of the gRPC front, common to both modes.
type serveFlags struct {
	listen          string
	metricsListen   string
	pprof           bool
	configFile      string
	tlsCert, tlsKey string
	clientCAs       listFlag
	maxMsgBytes     int
	maxPageSize     uint
	requestTimeout  time.Duration
	shutdownTimeout time.Duration
	logLevel        string
	logFormat       string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9000", "gRPC listen address (host:port)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus metrics on http://ADDR/metrics (empty: off)")
	fs.BoolVar(&f.pprof, "pprof", false, "also serve the Go profiler on the metrics address, under /debug/pprof/")
	fs.StringVar(&f.configFile, "config", "", "YAML configuration file (channel membership, client CAs)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "server TLS certificate (PEM); enables TLS")
	fs.StringVar(&f.tlsKey, "tls-key", "", "server TLS private key (PEM)")
	fs.Var(&f.clientCAs, "client-ca", "MSPID=CA_FILE: require client certificates; those of MSP id MSPID must be issued by CA_FILE (repeatable, or comma-separated)")
	fs.IntVar(&f.maxMsgBytes, "max-msg-size", 16<<20, "maximum size in bytes of one request or response message")
	fs.UintVar(&f.maxPageSize, "max-page-size", 10000, "maximum page_size of a query (the default page size is 50)")
	fs.DurationVar(&f.requestTimeout, "request-timeout", time.Minute, "deadline of a call that comes without one")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 20*time.Second, "on SIGINT/SIGTERM, how long in-flight calls may take to finish")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug (logs every call), info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
}

// logger returns the process logger, on stderr.
func (f *serveFlags) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel)}
	}
	o := &slog.HandlerOptions{Level: lvl}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, o)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
}

// options builds the server options, reading the configuration file.
func (f *serveFlags) options(log *slog.Logger) (server.Options, error) {
	o := server.Options{
		Listen:          f.listen,
		MetricsListen:   f.metricsListen,
		Pprof:           f.pprof,
		TLSCert:         f.tlsCert,
		TLSKey:          f.tlsKey,
		MaxMessageBytes: f.maxMsgBytes,
		MaxPageSize:     uint32(min(f.maxPageSize, 1<<32-1)),
		RequestTimeout:  f.requestTimeout,
		ShutdownTimeout: f.shutdownTimeout,
		Logger:          log,
		Metrics:         server.NewMetrics(),
	}
	cas, err := server.ParseClientCAs(f.clientCAs)
	if err != nil {
		return o, usageError{err}
	}
	if f.configFile != "" {
		cfg, err := server.LoadConfig(f.configFile)
		if err != nil {
			return o, err
		}
		o.Channels = cfg.Channels
		for msp, file := range cfg.ClientCAs {
			if prev, dup := cas[msp]; dup && prev != file {
				return o, fmt.Errorf("two client CAs for %s: --client-ca %s and config %s", msp, prev, file)
			}
			cas[msp] = file
		}
	}
	if len(cas) > 0 {
		o.ClientCAs = cas
	}
	return o, nil
}

// backend is what a mode contributes to the server.
type backend struct {
	// register registers the API services.
	register func(*grpc.Server)
	// bind stores the verified caller in a request context.
	bind server.BindCaller
	// close releases the backend once the server has stopped.
	close func() error
	// describe names the backend in the start-up log line.
	describe []any
}

// serve runs the gRPC server over b until ctx is done, then shuts down and
// closes b.
func serve(ctx context.Context, log *slog.Logger, o server.Options, b backend) (err error) {
	defer func() {
		if cerr := b.close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
	}()
	o.Register, o.Bind = b.register, b.bind
	srv, err := server.New(o)
	if err != nil {
		return err
	}
	attrs := append([]any{"addr", srv.Addr().String(), "tls", o.TLSCert != "", "mtls", len(o.ClientCAs) > 0}, b.describe...)
	if a := srv.MetricsAddr(); a != nil {
		attrs = append(attrs, "metrics", "http://"+a.String()+"/metrics")
	}
	if len(o.Channels) == 0 {
		log.Warn("no channel configuration: every organization may use every channel")
	} else {
		for _, ch := range slices.Sorted(maps.Keys(o.Channels)) {
			log.Info("channel", "name", ch, "organizations", strings.Join(o.Channels[ch], ","))
		}
	}
	if len(o.ClientCAs) == 0 {
		log.Warn("no client CA: the mspid header is trusted as the caller's identity")
	}
	log.Info("orchestrator listening", attrs...)
	err = srv.Serve(ctx)
	if err == nil || errors.Is(err, context.Canceled) {
		log.Info("orchestrator stopped")
		return nil
	}
	return err
}
