package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/loadtest"
	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/server"
)

const benchSynopsis = `Drive a realistic workload over gRPC against a running orchestrator (any
server of this API) and report per-phase throughput and latency: progress
lines and a table, then one JSON line on stdout. The exit status is 1 when
any call or check failed. With --self, the run starts its own solo server
(embedded store in a temporary folder) in this process and loads it.

Against Fabric (make fabric-up: one facade per organization, each refusing
the calls of another organization), name the network's organizations and
send each one's calls to its own facade:

  orchestrator bench --orgs Org1MSP,Org2MSP \
    --org-addr Org1MSP=127.0.0.1:9001 --org-addr Org2MSP=127.0.0.1:9002

(or ORCHESTRATOR_ORG_ADDR=Org1MSP=127.0.0.1:9001,Org2MSP=127.0.0.1:9002).
The first organization of --orgs owns the data and runs the tasks, the last
registers functions, plans and tasks. To measure RegisterTasks alone, run
only the tasks phase and what it needs (organizations, functions, data,
plans), with small sizes around it, e.g.

  ... --phases tasks --functions 5 --samples 100 --plans 64 --concurrency 32

The tasks phase makes plans x ceil(tasks-per-plan / task-batch) calls (20 by
default), spread over at most one worker per plan ("workers" in the report):
raise --plans for more workers and for a p99 that is not simply the slowest
call. Every call of a phase counts (--warm-up adds reads of everything
before the read phases, as phases of their own); the connections are
opened before the first phase and timed apart ("connect_ms").
--server-metrics adds the servers' own CPU per item to each phase.
--self-facades plays the same topology on one machine, over one solo store.`

// runBench runs the load test (package loadtest).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", benchSynopsis, stderr)
	cfg := loadtest.DefaultConfig()
	cfg.RegisterFlags(fs)
	self := fs.Bool("self", false, "start a solo server (temporary embedded store, free port) in this process and load it; --addr is ignored")
	noSync := fs.Bool("self-unsafe-no-sync", false, "with --self: do not fsync the store (measures everything but the disk)")
	couch := fs.String("self-couchdb", "", "with --self: keep the state in this CouchDB (URL, credentials in it) instead of the embedded store, in databases of a fresh prefix")
	facades := fs.Bool("self-facades", false, "with --self: one port per organization of --orgs over the one store, each refusing calls whose "+
		"mspid is another organization's (as Fabric's facades), and each organization's calls sent to its own")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the load tool, and with --self the server too) to this file (go tool pprof)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if !*self && (*noSync || *facades || *couch != "") {
		return usageError{errors.New("--self-unsafe-no-sync, --self-facades and --self-couchdb go with --self")}
	}
	if *self && len(cfg.OrgAddrs) > 0 {
		return usageError{errors.New("--org-addr sends calls to running servers: not with --self (see --self-facades)")}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if *self {
		o := selfOptions{noSync: *noSync, couchURL: *couch}
		if *facades {
			o.facades, o.channel = cfg.Orgs, cfg.Channel
		}
		s, err := serveSelf(ctx, stderr, o)
		if err != nil {
			return err
		}
		defer s.stop()
		if s.addr != "" {
			cfg.Addr = s.addr
		}
		cfg.OrgAddrs = s.orgAddrs
	}
	_, err := loadtest.Run(ctx, cfg, stdout)
	return err
}

// selfOptions is what --self serves.
type selfOptions struct {
	noSync bool
	// couchURL, when set, is the CouchDB holding the state.
	couchURL string
	// facades, when not empty, are organizations that get a listener each,
	// open to that organization only, on channel.
	facades []string
	channel string
}

// selfServers are the servers --self started.
type selfServers struct {
	// addr is the server open to every organization ("" with facades).
	addr string
	// orgAddrs is the address of each organization's own server.
	orgAddrs map[string]string
	// metrics of each server, by address.
	metrics map[string]*server.Metrics
	// stop shuts the servers down and removes the store.
	stop func()
}

// serveSelf starts a solo server on a free loopback port over a temporary
// embedded store, or, with o.facades, one per organization over the same
// store. stop shuts them down and removes the store.
func serveSelf(ctx context.Context, stderr io.Writer, o selfOptions) (*selfServers, error) {
	dir, err := os.MkdirTemp("", "orchestrator-bench-")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	storeMetrics := server.NewMetrics()
	f := &soloFlags{data: dir, maxRetries: 20, unsafeNoSync: o.noSync, blockCache: defaultBlockCacheMiB, readCache: defaultReadCacheMiB}
	where := fmt.Sprintf("store in %s (fsync %v)", dir, !o.noSync)
	if o.couchURL != "" {
		// A fresh prefix per run: reusing one would collide with the keys
		// of an earlier run.
		f.couchURL, f.couchPrefix = o.couchURL, fmt.Sprintf("bench%d_", time.Now().UnixNano())
		where = "state in CouchDB databases " + f.couchPrefix + "*"
	}
	b, err := openSolo(ctx, f, storeMetrics.Registry, nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var done []chan error
	s := &selfServers{metrics: map[string]*server.Metrics{}}
	s.stop = func() {
		cancel()
		var errs []error
		for _, d := range done {
			errs = append(errs, <-d)
		}
		if err := errors.Join(append(errs, b.close())...); err != nil {
			fmt.Fprintf(stderr, "bench: stop the server: %v\n", err)
		}
		os.RemoveAll(dir)
	}
	// start serves one server, open to the organizations of channels
	// (everyone when nil), and returns its address.
	start := func(channels map[string][]string) (string, error) {
		metrics := server.NewMetrics()
		srv, err := server.New(server.Options{
			Listen: "127.0.0.1:0", Logger: log, Metrics: metrics, MaxMessageBytes: 16 << 20, MaxPageSize: 10000,
			Channels: channels, Register: b.register, Bind: b.bind,
		})
		if err != nil {
			return "", err
		}
		d := make(chan error, 1)
		done = append(done, d)
		go func() { d <- srv.Serve(sctx) }()
		addr := srv.Addr().String()
		s.metrics[addr] = metrics
		return addr, nil
	}
	if len(o.facades) == 0 {
		if s.addr, err = start(nil); err != nil {
			s.stop()
			return nil, err
		}
		fmt.Fprintf(stderr, "bench: solo server on %s, %s\n", s.addr, where)
		return s, nil
	}
	s.orgAddrs = map[string]string{}
	for _, org := range slices.Compact(slices.Sorted(slices.Values(o.facades))) {
		addr, err := start(map[string][]string{o.channel: {org}})
		if err != nil {
			s.stop()
			return nil, err
		}
		s.orgAddrs[org] = addr
	}
	var list []string
	for _, org := range slices.Sorted(maps.Keys(s.orgAddrs)) {
		list = append(list, org+" on "+s.orgAddrs[org])
	}
	fmt.Fprintf(stderr, "bench: solo facades %s (each open to its organization only, channel %s), %s\n",
		strings.Join(list, ", "), o.channel, where)
	return s, nil
}
