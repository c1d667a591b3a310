package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/fedchain/orchestrator/protos/codec"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// Options configures a Server. Register and Bind are required.
type Options struct {
	// Listen is the gRPC address (host:port; port 0 picks a free one).
	Listen string
	// MetricsListen, if set, serves Prometheus metrics on /metrics (and,
	// with Pprof, the profiler on /debug/pprof/).
	MetricsListen string
	Pprof         bool

	// TLSCert and TLSKey enable TLS. ClientCAs (MSP id -> CA file and
	// subject rule) then require a client certificate issued by the CA of
	// the mspid header, whose subject matches that MSP id's rule.
	TLSCert, TLSKey string
	ClientCAs       map[string]ClientCA
	// Channels lists the organizations of each channel; empty: any
	// organization may use any channel, up to MaxChannels of them.
	Channels map[string][]string
	// MaxChannels bounds the distinct channel names the server accepts
	// when Channels is empty (0: no bound).
	MaxChannels int

	// MaxConcurrentStreams bounds the calls in flight on one connection
	// (0: gRPC's default, no bound).
	MaxConcurrentStreams uint32
	// MaxStreamsPerOrg bounds the open streams (event subscriptions) of
	// one MSP id over all connections (0: no bound).
	MaxStreamsPerOrg int
	// MaxConnections bounds the client connections open at once; one more
	// is closed at once (0: no bound).
	MaxConnections int

	// MaxMessageBytes bounds the size of one request and one response.
	MaxMessageBytes int
	// MaxPageSize bounds the page_size of queries (0: no bound).
	MaxPageSize uint32
	// RequestTimeout is the deadline of unary calls that bring none.
	RequestTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight calls may take to finish
	// after a shutdown starts.
	ShutdownTimeout time.Duration

	Logger  *slog.Logger
	Metrics *Metrics

	// Bind stores the verified caller in the request context.
	Bind BindCaller
	// Register registers the API services on the gRPC server.
	Register func(*grpc.Server)
}

// Server is a listening orchestrator gRPC server.
type Server struct {
	opts    Options
	grpc    *grpc.Server
	health  *health.Server
	lis     net.Listener
	metrics *http.Server
	mlis    net.Listener

	// streams is cancelled when a shutdown starts: open streams (event
	// subscriptions) end, so that the graceful stop does not wait for them.
	streams     context.Context
	stopStreams context.CancelFunc
}

// New checks the options, loads the TLS material and opens the listeners.
// Its errors are one-line and name what is wrong.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 20 * time.Second
	}
	if o.Register == nil || o.Bind == nil {
		return nil, errors.New("server: Register and Bind are required")
	}
	var (
		cas map[string]member
		all *x509.CertPool
	)
	gopts := []grpc.ServerOption{
		// Clients that ping more often than every 10 s are disconnected
		// (GOAWAY "too_many_pings"); the server pings idle connections
		// every minute and drops the ones that do not answer in 20 s, so
		// that dead peers do not hold streams.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
		// Stop (after the shutdown timeout) cancels the calls still running
		// and waits for their handlers, so that the stores close after the
		// last transaction.
		grpc.WaitForHandlers(true),
		// Calls run on long-lived goroutines (a new one when they are all
		// busy): on a goroutine of its own, each call grew its stack from
		// the minimum through the contract API's deep frames, and the
		// stack copies were a tenth of the CPU of a GetTask.
		grpc.NumStreamWorkers(uint32(max(16, 4*runtime.GOMAXPROCS(0)))),
	}
	if o.MaxConcurrentStreams > 0 {
		gopts = append(gopts, grpc.MaxConcurrentStreams(o.MaxConcurrentStreams))
	}
	if o.MaxMessageBytes > 0 {
		gopts = append(gopts, grpc.MaxRecvMsgSize(o.MaxMessageBytes), grpc.MaxSendMsgSize(o.MaxMessageBytes))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if len(o.ClientCAs) > 0 && o.TLSCert == "" {
		return nil, errors.New("client CAs need TLS: set --tls-cert and --tls-key")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if len(o.ClientCAs) > 0 {
			cas, all, err = loadCAs(o.ClientCAs)
			if err != nil {
				return nil, err
			}
			// The handshake asks for a certificate (naming the client CAs)
			// and checks that the client holds its key; the identity
			// interceptor verifies it, so that a refusal is a status that
			// says why (expired, unknown CA, another organization's).
			tc.ClientAuth = tls.RequestClientCert
			tc.ClientCAs = all
		}
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(tc)))
	}

	s := &Server{opts: o, health: health.NewServer()}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	id := newIdentity(o.Bind, o.Channels, cas, all)
	id.maxChannels = o.MaxChannels
	id.streams = newStreamCaps(o.MaxStreamsPerOrg)
	lim := &limits{maxPageSize: o.MaxPageSize, timeout: o.RequestTimeout}
	logger := slogLogger(o.Logger)
	gopts = append(gopts,
		grpc.ChainUnaryInterceptor(
			requestIDUnary,
			o.Metrics.unary,
			logUnary(o.Logger),
			recovery.UnaryServerInterceptor(recoveryOption(o.Logger)),
			id.unary,
			lim.unary,
		),
		grpc.ChainStreamInterceptor(
			requestIDStream,
			o.Metrics.stream,
			logging.StreamServerInterceptor(logger, loggingOptions()...),
			recovery.StreamServerInterceptor(recoveryOption(o.Logger)),
			s.endOnShutdown,
			id.stream,
		),
	)
	gopts = append(gopts, grpc.ForceServerCodecV2(codec.New()))
	s.grpc = grpc.NewServer(gopts...)
	o.Register(s.grpc)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Listen, unwrapSyscall(err))
	}
	s.lis = newLimitListener(lis, o.MaxConnections)
	if o.MetricsListen != "" {
		mlis, err := net.Listen("tcp", o.MetricsListen)
		if err != nil {
			lis.Close()
			return nil, fmt.Errorf("metrics: listen on %s: %w", o.MetricsListen, unwrapSyscall(err))
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{Registry: o.Metrics.Registry}))
		if o.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		s.mlis = mlis
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	}
	return s, nil
}

// unwrapSyscall shortens "listen tcp 127.0.0.1:9000: bind: address already
// in use" to its cause.
func unwrapSyscall(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// Addr returns the gRPC listening address.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// MetricsAddr returns the metrics listening address, nil when disabled.
func (s *Server) MetricsAddr() net.Addr {
	if s.mlis == nil {
		return nil
	}
	return s.mlis.Addr()
}

// Serve serves until ctx is done or serving fails, then shuts down
// gracefully: the health service reports NOT_SERVING, new connections are
// refused, open event streams end with Unavailable, and in-flight calls get
// up to ShutdownTimeout to finish before connections are closed. It returns
// once nothing runs any more; the caller then closes its stores.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(s.lis) }()
	if s.metrics != nil {
		go func() {
			if err := s.metrics.Serve(s.mlis); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics server: %w", err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.shutdown()
	return err
}

func (s *Server) shutdown() {
	s.opts.Logger.Info("shutting down", "timeout", s.opts.ShutdownTimeout.String())
	s.health.Shutdown()
	s.stopStreams()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	t := time.NewTimer(s.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.opts.Logger.Warn("in-flight calls did not finish in time; closing connections")
		s.grpc.Stop()
		<-done
	}
	if s.metrics != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.metrics.Shutdown(ctx)
	}
}

// endOnShutdown cancels a stream's context when a shutdown starts and then
// reports Unavailable, so that clients reconnect elsewhere or later.
func (s *Server) endOnShutdown(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	stop := context.AfterFunc(s.streams, cancel)
	defer stop()
	err := handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
	if err != nil && s.streams.Err() != nil {
		return status.Error(codes.Unavailable, "server shutting down")
	}
	return err
}
