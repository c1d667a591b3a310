package couchstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb" // registers the "couch" driver

	"github.com/fedchain/orchestrator/solo/store"
)

// DefaultDBPrefix starts the name of every channel database unless
// WithDBPrefix says otherwise.
const DefaultDBPrefix = "fedchain_"

// Option configures an Opener.
type Option func(*Opener)

// WithDBPrefix sets the prefix of the database names (default
// DefaultDBPrefix). It must start with a lower-case letter and hold only
// a-z, 0-9 and _$()+- (CouchDB's rule for database names).
func WithDBPrefix(prefix string) Option {
	return func(o *Opener) { o.prefix = prefix }
}

// WithHTTPClient sets the HTTP client used to talk to CouchDB (timeouts,
// TLS). Long-polls for events are bounded by their context, not by the
// client's Timeout, so leave Timeout zero.
func WithHTTPClient(c *http.Client) Option {
	return func(o *Opener) { o.httpClient = c }
}

// WithCacheBytes bounds the memory of each channel's cache of state
// documents (default 128 MB). An evicted key costs a read the next time.
func WithCacheBytes(n int) Option {
	return func(o *Opener) { o.cacheBytes = n }
}

// Opener opens channel stores on one CouchDB server. It implements
// store.Opener. Stores of the same channel opened by several Openers (in one
// or several processes) share their state safely.
type Opener struct {
	client     *kivik.Client
	rawURL     string
	server     string // redacted URL, for messages
	prefix     string
	httpClient *http.Client
	cacheBytes int
	raw        *rawClient
	// tune, set by tests, adjusts a Store before its goroutines start.
	tune func(*Store)
}

var _ store.Opener = (*Opener)(nil)

// NewOpener returns an Opener for the CouchDB server at rawURL
// (http[s]://[user:password@]host:port[/path]). It does not contact the
// server; Open does.
func NewOpener(rawURL string, opts ...Option) (*Opener, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		return nil, errors.New("couchstore: invalid CouchDB URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("couchstore: CouchDB URL %s: want http[s]://host:port", u.Redacted())
	}
	o := &Opener{rawURL: rawURL, server: u.Redacted(), prefix: DefaultDBPrefix, cacheBytes: defaultCacheBytes}
	for _, opt := range opts {
		opt(o)
	}
	if !validPrefix(o.prefix) {
		return nil, fmt.Errorf("couchstore: invalid database prefix %q", o.prefix)
	}
	if o.cacheBytes <= 0 {
		return nil, fmt.Errorf("couchstore: cache bound %d: want > 0", o.cacheBytes)
	}
	// Requests are small and CouchDB is near: gzip costs more than it saves.
	kopts := []kivik.Option{couchdb.OptionNoRequestCompression()}
	if o.httpClient != nil {
		kopts = append(kopts, couchdb.OptionHTTPClient(o.httpClient))
	}
	c, err := kivik.New("couch", rawURL, kopts...)
	if err != nil {
		return nil, fmt.Errorf("couchstore: CouchDB client for %s: %w", o.server, err)
	}
	o.client = c
	if o.raw, err = newRawClient(rawURL, o.httpClient); err != nil {
		return nil, fmt.Errorf("couchstore: CouchDB client for %s: %w", o.server, err)
	}
	return o, nil
}

// Server returns the server URL without password, for logs.
func (o *Opener) Server() string { return o.server }

// Open opens the store of channel, creating its database if needed, and
// learns the commits that may not be applied yet (see the package doc).
func (o *Opener) Open(ctx context.Context, channel string) (store.Store, error) {
	return o.OpenStore(ctx, channel)
}

// revsLimit is the _revs_limit of the databases this package creates: the
// store never needs old revisions (nor replication history), and a short
// revision tree keeps every state document small on disk.
const revsLimit = 10

// OpenStore is Open with the concrete type.
func (o *Opener) OpenStore(ctx context.Context, channel string) (*Store, error) {
	if channel == "" {
		return nil, errors.New("couchstore: empty channel name")
	}
	name := dbName(o.prefix, channel)
	created := true
	if err := o.client.CreateDB(ctx, name); err != nil {
		if kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
			return nil, unavailable(fmt.Errorf("couchstore: channel %s: create database %s on %s: %w", channel, name, o.server, err))
		}
		created = false
	}
	db := o.client.DB(name)
	if err := db.Err(); err != nil {
		return nil, fmt.Errorf("couchstore: channel %s: database %s on %s: %w", channel, name, o.server, err)
	}
	if created {
		if err := o.setRevsLimit(ctx, name); err != nil {
			return nil, fmt.Errorf("couchstore: channel %s: database %s on %s: set _revs_limit: %w", channel, name, o.server, err)
		}
	}
	sname, err := o.stateDB(ctx, db, name, created)
	if err != nil {
		return nil, fmt.Errorf("couchstore: channel %s: %w", channel, err)
	}
	sdb := o.client.DB(sname)
	if err := sdb.Err(); err != nil {
		return nil, fmt.Errorf("couchstore: channel %s: database %s on %s: %w", channel, sname, o.server, err)
	}
	s := &Store{
		db:          db,
		sdb:         sdb,
		raw:         o.raw,
		dbPath:      name,
		sdbPath:     sname,
		channel:     channel,
		where:       name + " on " + o.server,
		wake:        make(chan struct{}),
		lock:        make(chan struct{}, 1),
		mem:         newMemState(o.cacheBytes),
		applyKick:   make(chan struct{}, 1),
		appliedCh:   make(chan struct{}),
		quit:        make(chan struct{}),
		applierEnd:  make(chan struct{}),
		followerEnd: make(chan struct{}),
	}
	if o.tune != nil {
		o.tune(s)
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	go s.applier()
	go s.follower()
	s.kick()
	return s, nil
}

// stateSuffix ends the name of a channel's state database: dbName never
// produces "$", so no channel's journal database has such a name.
const stateSuffix = "$state"

// stateDB returns the name of the database that holds the state documents
// of the channel whose journal is database name, creating it if needed.
// The state documents live apart from the journal because a CouchDB
// database has one writer: in the journal's database, every _bulk_docs of
// the applier would hold up the journal PUTs on the callers' path for its
// whole duration. A journal database that already holds state documents
// (the layout before this one) keeps them: it is its own state database.
func (o *Opener) stateDB(ctx context.Context, journal *kivik.DB, name string, created bool) (string, error) {
	if !created {
		rs := journal.AllDocs(ctx, kivik.Params(map[string]any{"startkey": statePrefix, "endkey": stateEnd, "limit": 1}))
		legacy := rs.Next()
		rs.Close()
		if err := rs.Err(); err != nil {
			return "", unavailable(fmt.Errorf("database %s on %s: look for state documents: %w", name, o.server, err))
		}
		if legacy {
			return name, nil
		}
	}
	sname := name + stateSuffix
	if err := o.client.CreateDB(ctx, sname); err != nil {
		if kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
			return "", unavailable(fmt.Errorf("create database %s on %s: %w", sname, o.server, err))
		}
		return sname, nil
	}
	if err := o.setRevsLimit(ctx, sname); err != nil {
		return "", fmt.Errorf("database %s on %s: set _revs_limit: %w", sname, o.server, err)
	}
	return sname, nil
}

// rawClient makes plain HTTP requests to the server, for what kivik does
// not offer.
type rawClient struct {
	base     *url.URL // without credentials
	user, pw string
	hc       *http.Client
}

func newRawClient(rawURL string, hc *http.Client) (*rawClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("invalid URL")
	}
	rc := &rawClient{hc: hc}
	if u.User != nil {
		rc.user = u.User.Username()
		rc.pw, _ = u.User.Password()
	}
	u.User = nil
	rc.base = u
	if rc.hc == nil {
		rc.hc = http.DefaultClient
	}
	return rc, nil
}

// do sends a JSON request to path (with its query) and returns a 2xx
// response; any other status is an error.
func (rc *rawClient) do(ctx context.Context, method, pathQuery string, body []byte) (*http.Response, error) {
	path, query, _ := strings.Cut(pathQuery, "?")
	u := rc.base.JoinPath(path)
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if rc.user != "" {
		req.SetBasicAuth(rc.user, rc.pw)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rc.hc.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		se := &statusError{method: method, path: path, status: resp.StatusCode}
		var e struct {
			Error  string `json:"error"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			se.reason = e.Error + ": " + e.Reason
		}
		if resp.StatusCode >= 500 {
			return nil, fmt.Errorf("%w (%w)", se, store.ErrUnavailable)
		}
		return nil, se
	}
	return resp, nil
}

// statusError is an answer of the server other than 2xx to a raw request.
// kivik.HTTPStatus reads its status, as for kivik's own errors.
type statusError struct {
	method, path string
	status       int
	reason       string // CouchDB's "error: reason", if any
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.method, e.path, e.status)
	if e.reason != "" {
		msg += " (" + e.reason + ")"
	}
	return msg
}

// HTTPStatus returns the HTTP status of the answer.
func (e *statusError) HTTPStatus() int { return e.status }

// setRevsLimit sets the _revs_limit of database name (kivik has no call
// for it).
func (o *Opener) setRevsLimit(ctx context.Context, name string) error {
	resp, err := o.raw.do(ctx, http.MethodPut, name+"/_revs_limit", []byte(strconv.Itoa(revsLimit)))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Close releases the HTTP connections. Stores opened by o must not be used
// afterwards.
func (o *Opener) Close() error {
	return o.client.Close()
}

// Store is the store.Store of one channel in one CouchDB database.
type Store struct {
	db      *kivik.DB // the journal ("c" documents)
	sdb     *kivik.DB // the state documents ("k"); db itself in the older layout
	raw     *rawClient
	dbPath  string // the journal database's name, for raw requests
	sdbPath string // the state database's name
	channel string
	where   string // "db on server", for messages

	// lock (a one-slot semaphore, so that waiting honours the context)
	// serializes this process's commits and catch-ups of the channel: they
	// would only race for the same journal id. Its holder commits the
	// queued batches as one group.
	lock chan struct{}

	// noFind is set once the server refused the _find of the event reads:
	// they go through _all_docs from then on (see readEntries).
	noFind atomic.Bool

	qmu   sync.Mutex
	queue []*pending // Commit calls waiting for a group

	// afterJournal, set by tests, runs between a journal write and its
	// application; an error stops the commit there (a simulated crash:
	// the store neither learns nor applies the entry).
	afterJournal func(seq uint64) error
	// maxGroup, set by tests, overrides the group size limit.
	maxGroup int
	// maxEventPage, set by tests, overrides the journal entries per
	// ReadEvents request.
	maxEventPage int
	// foreignDelay, set by tests, overrides foreignApplyDelay.
	foreignDelay time.Duration
	// applyEvery, set by tests, overrides applyInterval.
	applyEvery time.Duration
	// compactEvery and compactLook, set by tests, override the constants.
	compactEvery int64
	compactLook  time.Duration

	applyKick   chan struct{} // wakes the applier (one slot)
	quit        chan struct{} // closed by Close: the applier stops
	applierEnd  chan struct{} // closed when the applier returned
	followerEnd chan struct{} // closed when the follower returned

	written     atomic.Int64 // bytes sent to the server since the last compaction check
	compactions atomic.Int64 // compactions started
	stats       counters     // see Stats
	feeds       atomic.Int64 // _changes feeds the follower started and caught up to
	// lastPut is when the last journal PUT of this process ended, in Unix
	// nanoseconds, or putInFlight while one is under way: the follower
	// keeps its feed closed while these come often.
	lastPut atomic.Int64
	// followIdle, set by tests, overrides followIdle.
	followIdle time.Duration

	mu        sync.Mutex
	head      uint64        // last journal entry known
	applied   uint64        // every entry <= applied is applied (by this process or verified)
	mem       *memState     // cache, overlay, window
	ring      eventRing     // events of the entries learned since Open
	event     uint64        // highest event seq known to exist
	wake      chan struct{} // closed and replaced when head moves or on Close
	appliedCh chan struct{} // closed and replaced when applied moves
	crashed   bool          // the test hook simulated a crash
	applyGate chan struct{} // set by tests: the applier waits for a value before each round
	noRing    bool          // set by tests: event reads go to the server
	closed    bool
}

var _ store.Store = (*Store)(nil)

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Store) errf(format string, args ...any) error {
	return fmt.Errorf("couchstore: channel %s (%s): %s", s.channel, s.where, fmt.Sprintf(format, args...))
}

// wrap wraps err with the channel, the server and what was being done; a
// transient failure (connection, 5xx) also wraps store.ErrUnavailable.
func (s *Store) wrap(err error, format string, args ...any) error {
	return unavailable(fmt.Errorf("couchstore: channel %s (%s): %s: %w", s.channel, s.where, fmt.Sprintf(format, args...), err))
}

// unavailable adds store.ErrUnavailable to err when it is a transient
// failure of the server or of the connection to it.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if transient(err) {
		return fmt.Errorf("%w (%w)", err, store.ErrUnavailable)
	}
	return err
}

// transient reports whether err is a failure to reach the server (no
// HTTP status: connection refused or reset) or a server-side failure (5xx).
func transient(err error) bool {
	st := kivik.HTTPStatus(err)
	if st >= 500 {
		return true
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		st == 0 && !errors.Is(err, store.ErrConflict) && isTransportError(err)
}

// isTransportError reports whether err came out of the HTTP client rather
// than from an answer of the server.
func isTransportError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// lockCtx takes the commit lock, or returns ctx's error.
func (s *Store) lockCtx(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.lock }

// sawEvent records that an event with seq exists.
func (s *Store) sawEvent(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.event = max(s.event, seq)
}

func (s *Store) getHead() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// closeTimeout bounds how long Close waits for the applier to apply what
// this process committed (what it leaves is completed by the next Open).
const closeTimeout = 10 * time.Second

// Close marks the store closed, wakes waiters, and lets the applier finish
// the entries this process committed (for at most closeTimeout). It does
// not close the Opener's connections.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
	close(s.quit)
	<-s.applierEnd
	<-s.followerEnd
	return nil
}
