package couchstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

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

// Opener opens channel stores on one CouchDB server. It implements
// store.Opener. Stores of the same channel opened by several Openers (in one
// or several processes) share their state safely.
type Opener struct {
	client     *kivik.Client
	server     string // redacted URL, for messages
	prefix     string
	httpClient *http.Client
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
	o := &Opener{server: u.Redacted(), prefix: DefaultDBPrefix}
	for _, opt := range opts {
		opt(o)
	}
	if !validPrefix(o.prefix) {
		return nil, fmt.Errorf("couchstore: invalid database prefix %q", o.prefix)
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
	return o, nil
}

// Server returns the server URL without password, for logs.
func (o *Opener) Server() string { return o.server }

// Open opens the store of channel, creating its database if needed, and
// completes a commit that a crashed process left half applied.
func (o *Opener) Open(ctx context.Context, channel string) (store.Store, error) {
	return o.OpenStore(ctx, channel)
}

// OpenStore is Open with the concrete type.
func (o *Opener) OpenStore(ctx context.Context, channel string) (*Store, error) {
	if channel == "" {
		return nil, errors.New("couchstore: empty channel name")
	}
	name := dbName(o.prefix, channel)
	if err := o.client.CreateDB(ctx, name); err != nil && kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
		return nil, fmt.Errorf("couchstore: channel %s: create database %s on %s: %w", channel, name, o.server, err)
	}
	db := o.client.DB(name)
	if err := db.Err(); err != nil {
		return nil, fmt.Errorf("couchstore: channel %s: database %s on %s: %w", channel, name, o.server, err)
	}
	s := &Store{
		db:      db,
		channel: channel,
		where:   name + " on " + o.server,
		wake:    make(chan struct{}),
	}
	s.commitMu.Lock()
	_, err := s.rollForward(ctx)
	s.commitMu.Unlock()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the HTTP connections. Stores opened by o must not be used
// afterwards.
func (o *Opener) Close() error {
	return o.client.Close()
}

// Store is the store.Store of one channel in one CouchDB database.
type Store struct {
	db      *kivik.DB
	channel string
	where   string // "db on server", for messages

	// commitMu serializes this process's commits (and roll-forwards) of the
	// channel: they would only race for the same journal id. Its holder
	// commits the queued batches as one group.
	commitMu sync.Mutex

	// noFind is set once the server refused the _find of the event reads:
	// they go through _all_docs from then on (see readEntries).
	noFind atomic.Bool

	qmu   sync.Mutex
	queue []*pending // Commit calls waiting for a group

	// afterJournal, set by tests, runs between a journal write and its
	// application; an error stops the commit there (a simulated crash).
	afterJournal func(seq uint64) error
	// maxGroup, set by tests, overrides the group size limit.
	maxGroup int
	// maxEventPage, set by tests, overrides the journal entries per
	// ReadEvents request.
	maxEventPage int

	mu     sync.Mutex
	head   uint64        // last commit known fully applied
	event  uint64        // highest event seq known to exist
	wake   chan struct{} // closed and replaced when head moves or on Close
	closed bool
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

func (s *Store) wrap(err error, format string, args ...any) error {
	return fmt.Errorf("couchstore: channel %s (%s): %s: %w", s.channel, s.where, fmt.Sprintf(format, args...), err)
}

// setHead records that commit seq is fully applied and wakes waiters.
func (s *Store) setHead(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq > s.head {
		s.head = seq
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

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

// Close marks the store closed and wakes waiters. It does not close the
// Opener's connections.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.wake)
		s.wake = make(chan struct{})
	}
	return nil
}
