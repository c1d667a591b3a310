package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/soloinvoker"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/couchstore"
	"github.com/fedchain/orchestrator/solo/pebblestore"
	"github.com/fedchain/orchestrator/solo/store"
)

// soloFlags are the flags of `orchestrator solo`.
type soloFlags struct {
	serveFlags
	data         string
	couchURL     string
	couchPrefix  string
	maxRetries   int
	unsafeNoSync bool
	blockCache   int // MiB
	readCache    int // MiB
}

// The embedded store's caches: 128 MiB each hold the records of some
// 100,000 tasks (reads of such a state ran 15-20% faster than with the
// store's former 32 MiB read cache) at a cost of memory that grows with
// the state only.
const (
	defaultBlockCacheMiB = 128
	defaultReadCacheMiB  = 128
)

const soloSynopsis = `Serve the orchestrator API, running the contracts in this process.
State and event log live in an embedded database under --data (one file per
channel), or in CouchDB with --couchdb (credentials in the URL, or in
ORCHESTRATOR_COUCHDB_USER / ORCHESTRATOR_COUCHDB_PASSWORD).`

func runSolo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f soloFlags
	fs := newFlagSet("solo", soloSynopsis, stderr)
	f.register(fs)
	fs.StringVar(&f.data, "data", "./data", "folder of the embedded store")
	fs.StringVar(&f.couchURL, "couchdb", "", "CouchDB URL (http[s]://[user:password@]host:port); replaces the embedded store")
	fs.StringVar(&f.couchPrefix, "couchdb-prefix", couchstore.DefaultDBPrefix, "prefix of the CouchDB database names (one database per channel)")
	fs.IntVar(&f.maxRetries, "max-retries", 20, "how many times a transaction that conflicts with concurrent ones is re-executed before the caller gets Aborted")
	fs.BoolVar(&f.unsafeNoSync, "unsafe-no-sync", false, "do not fsync the embedded store: a crash may lose acknowledged transactions (benchmarks only)")
	fs.IntVar(&f.blockCache, "block-cache-mib", defaultBlockCacheMiB, "embedded store: MiB of the cache of database blocks, shared by all channels")
	fs.IntVar(&f.readCache, "read-cache-mib", defaultReadCacheMiB, "embedded store: MiB of the cache of recently read keys, shared by all channels, allocated as it fills (0: none); "+
		"reads of large states gain most when it holds the records they show (about 0.6 KiB per task)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if f.blockCache < 1 || f.readCache < 0 {
		return usageError{fmt.Errorf("--block-cache-mib %d, --read-cache-mib %d: want at least 1 and 0", f.blockCache, f.readCache)}
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	opts, err := f.options(log)
	if err != nil {
		return err
	}
	b, err := openSolo(ctx, &f, opts.Metrics.Registry, slices.Sorted(maps.Keys(opts.Channels)))
	if err != nil {
		return err
	}
	return serve(ctx, log, opts, b)
}

// openSolo opens the store, the chaincode and the solo peer, and checks
// them: the configured channels are opened now, so that a store problem
// stops the start-up.
func openSolo(ctx context.Context, f *soloFlags, reg prometheus.Registerer, channels []string) (backend, error) {
	var (
		opener   store.Opener
		closers  []func() error
		describe []any
	)
	closeAll := func() error {
		var errs []error
		for _, c := range slices.Backward(closers) {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	if f.couchURL != "" {
		raw, redacted, err := couchURL(f.couchURL)
		if err != nil {
			return backend{}, err
		}
		if err := probeCouch(ctx, raw, redacted); err != nil {
			return backend{}, err
		}
		o, err := couchstore.NewOpener(raw, couchstore.WithDBPrefix(f.couchPrefix))
		if err != nil {
			return backend{}, err
		}
		opener = o
		closers = append(closers, o.Close)
		describe = []any{"store", "couchdb", "couchdb", redacted}
	} else {
		unlock, err := prepareDataDir(f.data)
		if err != nil {
			return backend{}, err
		}
		closers = append(closers, unlock)
		popts := []pebblestore.Option{
			pebblestore.WithCacheSize(int64(max(f.blockCache, 1)) << 20),
			pebblestore.WithReadCache(f.readCache << 20),
		}
		if f.unsafeNoSync {
			popts = append(popts, pebblestore.WithNoSync())
		}
		opener = pebblestore.Opener(f.data, popts...)
		abs, _ := filepath.Abs(f.data)
		describe = []any{"store", "embedded", "data", abs}
		if f.unsafeNoSync {
			describe = append(describe, "fsync", false)
		}
	}
	cc, err := newChaincode()
	if err != nil {
		_ = closeAll()
		return backend{}, fmt.Errorf("chaincode: %w", err)
	}
	p := solo.New(cc, soloinvoker.InstrumentOpener(opener, reg),
		solo.WithMaxRetries(f.maxRetries), solo.WithChaincodeName("orchestrator"))
	closers = append(closers, p.Close)
	for _, ch := range channels {
		if _, err := p.Store(ctx, ch); err != nil {
			_ = closeAll()
			return backend{}, fmt.Errorf("open channel %s: %w", ch, err)
		}
	}
	inv := soloinvoker.New(p, callerOf, reg)
	return backend{
		register: func(s *grpc.Server) { registerAPI(s, inv) },
		bind:     bindCaller,
		close:    closeAll,
		describe: append([]any{"mode", "solo"}, describe...),
	}, nil
}

// couchURL adds the credentials of the environment to a CouchDB URL that
// has none, and returns it with its redacted form (for messages).
func couchURL(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", usageError{errors.New("--couchdb: want http[s]://[user:password@]host:port")}
	}
	if u.User == nil {
		user, pass := os.Getenv(envPrefix+"COUCHDB_USER"), os.Getenv(envPrefix+"COUCHDB_PASSWORD")
		if user != "" {
			u.User = url.UserPassword(user, pass)
		}
	}
	return u.String(), u.Redacted(), nil
}

// probeCouch checks that the CouchDB server answers and accepts the
// credentials.
func probeCouch(ctx context.Context, raw, redacted string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u, _ := url.Parse(raw)
	u.Path = singleSlash(u.Path) + "_all_dbs"
	u.RawQuery = "limit=0"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("CouchDB %s: %w", redacted, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("CouchDB %s unreachable: %v", redacted, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("CouchDB %s refused the credentials (HTTP %d): give an admin user in the URL or in %sCOUCHDB_USER/%sCOUCHDB_PASSWORD", redacted, resp.StatusCode, envPrefix, envPrefix)
	case resp.StatusCode >= 300:
		return fmt.Errorf("CouchDB %s: unexpected HTTP %d", redacted, resp.StatusCode)
	}
	return nil
}

func singleSlash(p string) string {
	if p == "" || p[len(p)-1] != '/' {
		return p + "/"
	}
	return p
}

// prepareDataDir creates the data folder, checks that it is writable and
// locks it against a second orchestrator process. It returns the unlock
// function.
func prepareDataDir(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("data folder %s is not writable: %w", dir, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return lockDir(dir)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
