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
	maxChannels     int
	maxStreams      uint
	maxOrgStreams   int
	maxConns        int
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
	fs.UintVar(&f.maxPageSize, "max-page-size", 10000, "maximum page_size of a query, 1 to 4294967295 (the default page size is 50)")
	fs.IntVar(&f.maxChannels, "max-channels", 16, "without a channel configuration (--config), how many distinct channels callers may use (a dev default; 0: no bound)")
	fs.UintVar(&f.maxStreams, "max-concurrent-streams", 1024, "maximum calls in flight on one client connection")
	fs.IntVar(&f.maxConns, "max-connections", 1024, "maximum client connections open at once (one more is closed at once)")
	fs.IntVar(&f.maxOrgStreams, "max-streams-per-org", 64, "maximum open event subscriptions (SubscribeToEvents) of one MSP id, over all connections")
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
		Listen:               f.listen,
		MetricsListen:        f.metricsListen,
		Pprof:                f.pprof,
		TLSCert:              f.tlsCert,
		TLSKey:               f.tlsKey,
		MaxMessageBytes:      f.maxMsgBytes,
		MaxPageSize:          uint32(min(f.maxPageSize, 1<<32-1)),
		MaxChannels:          f.maxChannels,
		MaxConcurrentStreams: uint32(min(f.maxStreams, 1<<32-1)),
		MaxStreamsPerOrg:     f.maxOrgStreams,
		MaxConnections:       f.maxConns,
		RequestTimeout:       f.requestTimeout,
		ShutdownTimeout:      f.shutdownTimeout,
		Logger:               log,
		Metrics:              server.NewMetrics(),
	}
	if err := f.checkBounds(); err != nil {
		return o, usageError{err}
	}
	files, err := server.ParseClientCAs(f.clientCAs)
	if err != nil {
		return o, usageError{err}
	}
	cas := map[string]server.ClientCA{}
	for msp, file := range files {
		cas[msp] = server.ClientCA{CA: file}
	}
	if f.configFile != "" {
		cfg, err := server.LoadConfig(f.configFile)
		if err != nil {
			return o, err
		}
		o.Channels = cfg.Channels
		for msp, ca := range cfg.ClientCAs {
			if prev, dup := cas[msp]; dup && prev.CA != ca.CA {
				return o, fmt.Errorf("two client CAs for %s: --client-ca %s and config %s", msp, prev.CA, ca.CA)
			}
			cas[msp] = ca
		}
	}
	if len(cas) > 0 {
		o.ClientCAs = cas
	}
	return o, nil
}

// checkBounds rejects the limits that would disable themselves or
// overflow.
func (f *serveFlags) checkBounds() error {
	switch {
	case f.maxPageSize == 0 || f.maxPageSize > 1<<32-1:
		return fmt.Errorf("--max-page-size %d: want 1 to %d", f.maxPageSize, uint64(1<<32-1))
	case f.maxChannels < 0:
		return fmt.Errorf("--max-channels %d: want 0 (no bound) or more", f.maxChannels)
	case f.maxStreams == 0 || f.maxStreams > 1<<32-1:
		return fmt.Errorf("--max-concurrent-streams %d: want 1 to %d", f.maxStreams, uint64(1<<32-1))
	case f.maxConns <= 0:
		return fmt.Errorf("--max-connections %d: want 1 or more", f.maxConns)
	case f.maxOrgStreams <= 0:
		return fmt.Errorf("--max-streams-per-org %d: want 1 or more", f.maxOrgStreams)
	case f.maxMsgBytes <= 0:
		return fmt.Errorf("--max-msg-size %d: want 1 or more", f.maxMsgBytes)
	}
	return nil
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
		bound := fmt.Sprintf("at most %d of them (--max-channels), named [a-z][a-z0-9.-]*", o.MaxChannels)
		if o.MaxChannels == 0 {
			bound = "without bound (--max-channels 0)"
		}
		log.Warn("no channel configuration (dev default): every organization may use every channel, " + bound + "; name the channels in --config for production")
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
