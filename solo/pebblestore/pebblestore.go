// Package pebblestore is the embedded, durable store.Store of solo: one
// Pebble database (github.com/cockroachdb/pebble, an LSM tree) per channel,
// in a folder, with no server to run. It is the default store of
// `orchestrator solo`.
//
// # Layout
//
// Every key of the database starts with one byte naming its space:
//
//	's' ‖ state key  -> 8-byte version ‖ value
//	'e' ‖ 8-byte big-endian sequence -> encoded event
//	'm' ‖ "txnum"    -> the last transaction number
//
// A version is the big-endian number of the transaction that last wrote the
// key; numbers are never reused, so a deleted and re-created key gets a new
// version. Byte order of state keys is preserved by the prefix.
//
// # Commits
//
// One committer goroutine per store takes every batch waiting at that moment
// (group commit), validates each one against the state including the batches
// before it in the group, and writes the whole group as one Pebble batch with one fsync of
// the write-ahead log. Each caller learns its own result; a batch that fails
// validation is left out of the group without affecting the others. A batch
// that only reads is validated against the last durable snapshot.
//
// Validation mostly needs no database read: the committer remembers which
// keys the recent transactions wrote, and a batch carries the number of the
// snapshot it read (store.Batch.Snapshot), so a read key still holds exactly
// when nobody wrote it since (see window).
//
// # Reads see only durable state
//
// Pebble makes a batch visible before its log fsync completes. Readers must
// not see a transaction that a crash could still erase, so they do not read
// the live database: after each group is durable, the committer takes a
// Pebble snapshot, and Begin hands out that snapshot (reference-counted).
// Readers therefore see exactly the acknowledged state, as with a database
// that publishes on commit; the event log is capped the same way.
//
// # Memory
//
// Each open channel holds at most its read cache (32 MiB), Pebble's block
// cache (32 MiB), two or three memtables (16 MiB each) and the commit
// window (about 10 MiB): some 130 MiB, whatever the size of the state.
//
// # Why Pebble
//
// The orchestrator's writes are many small keys at random places (records
// keyed by UUID, index entries): a B+tree file rewrites one page per touched
// leaf on every commit, which made the commit, serialized in one goroutine,
// the bottleneck of task registration. An LSM tree writes each group once,
// sequentially, to its log, and sorts in the background. Pebble is the
// maintained Go LSM of CockroachDB: pure Go apart from an optional cgo zstd,
// crash-safe, with snapshots, atomic batches and ordered iterators — the
// whole store contract with no code of ours below the key layout.
package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/fedchain/orchestrator/solo/store"
)

const (
	spaceState = 's'
	spaceEvent = 'e'
	spaceMeta  = 'm'

	versionLen = 8
)

var keyTxNum = []byte{spaceMeta, 't', 'x', 'n', 'u', 'm'}

// Option configures a Store.
type Option func(*options)

type options struct {
	maxGroup  int
	window    int
	readCache int
	noSync    bool
	cacheSize int64
	memTable  uint64
	logger    *slog.Logger
}

// WithMaxGroup bounds how many batches one group commit may hold
// (default 512).
func WithMaxGroup(n int) Option { return func(o *options) { o.maxGroup = max(n, 1) } }

// WithWindow sets how many recently written keys the committer remembers
// to validate transactions without reading the database (default 65,536,
// about 10 MiB: several times what commits write while a transaction runs;
// see the package documentation).
func WithWindow(keys int) Option { return func(o *options) { o.window = max(keys, 0) } }

// WithReadCache bounds the memory, in bytes, of the cache of recently read
// keys in front of Pebble (default 32 MiB; 0 disables it).
func WithReadCache(bytes int) Option { return func(o *options) { o.readCache = max(bytes, 0) } }

// WithNoSync disables the fsync of the write-ahead log. Commits are then
// NOT durable; for benchmarks and throw-away test data only.
func WithNoSync() Option { return func(o *options) { o.noSync = true } }

// WithCacheSize sets the size in bytes of Pebble's block cache (default
// 32 MiB).
func WithCacheSize(n int64) Option { return func(o *options) { o.cacheSize = n } }

// WithMemTableSize sets the size in bytes of Pebble's memtable (default
// 16 MiB): larger ones flush and compact less often, smaller ones make
// point reads of keys not in the read cache cheaper.
func WithMemTableSize(n uint64) Option { return func(o *options) { o.memTable = n } }

// WithLogger receives Pebble's own messages: informational ones at debug
// level, background errors at error level. The default drops informational
// messages and sends errors to slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Store is a store.Store on one Pebble database.
type Store struct {
	db   *pebble.DB
	opts options
	sync *pebble.WriteOptions

	reqs    chan *request
	done    chan struct{} // closed when the committer exits
	closeMu sync.RWMutex
	closed  bool
	readers sync.WaitGroup // open Readers; Close waits for them

	txNum uint64  // last transaction number; committer goroutine only
	win   *window // committer goroutine only
	cache *readCache

	snapMu sync.Mutex
	snap   *snapshot // the last durable state

	lastEv   atomic.Uint64 // last durable event
	wakeMu   sync.Mutex
	wake     chan struct{}
	closedCh chan struct{}
}

// snapshot is a Pebble snapshot shared by the readers that began while it
// was the current durable state; the last one to let go closes it.
type snapshot struct {
	s     *pebble.Snapshot
	txNum uint64 // the last transaction it holds
	refs  int    // guarded by Store.snapMu
}

type request struct {
	b *store.Batch
	// keys are b.Writes' database keys and vals their stored values (nil for
	// deletes) with room for the version in front. The committing goroutine
	// prepares them before queueing, so that the committer, which every
	// commit waits for, only stamps the version.
	keys [][]byte
	vals [][]byte
	bad  error // why the batch cannot be written at all
	err  chan error
}

func newRequest(b *store.Batch) *request {
	req := &request{b: b, err: make(chan error, 1)}
	size := 0
	for _, w := range b.Writes {
		if w.Key == "" {
			req.bad = fmt.Errorf("pebblestore: tx %s: empty key", b.TxID)
			return req
		}
		size += 1 + len(w.Key)
		if !w.Delete {
			size += versionLen + len(w.Value)
		}
	}
	// One allocation for all keys and values: the Pebble batch copies them,
	// and they die with the request.
	buf := make([]byte, size)
	req.keys = make([][]byte, len(b.Writes))
	req.vals = make([][]byte, len(b.Writes))
	for i, w := range b.Writes {
		n := 1 + len(w.Key)
		k := buf[:n:n]
		buf = buf[n:]
		k[0] = spaceState
		copy(k[1:], w.Key)
		req.keys[i] = k
		if w.Delete {
			continue
		}
		n = versionLen + len(w.Value)
		v := buf[:n:n]
		buf = buf[n:]
		copy(v[versionLen:], w.Value)
		req.vals[i] = v
	}
	return req
}

var channelDir = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Opener returns a store.Opener keeping each channel in the folder
// dir/<channel>.pebble.
func Opener(dir string, opts ...Option) store.Opener {
	return store.OpenerFunc(func(_ context.Context, channel string) (store.Store, error) {
		if !channelDir.MatchString(channel) {
			return nil, fmt.Errorf("pebblestore: invalid channel name %q", channel)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("pebblestore: %w", err)
		}
		return Open(filepath.Join(dir, channel+".pebble"), opts...)
	})
}

// Open opens (creating if needed) the database in the folder path. Pebble
// locks the folder: a second Open of the same folder, from this process or
// another, fails.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{maxGroup: 512, window: 1 << 16, readCache: 32 << 20, cacheSize: 32 << 20, memTable: 16 << 20}
	for _, f := range opts {
		f(&o)
	}
	cache := pebble.NewCache(o.cacheSize)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       o.memTable,
		Logger:             logAdapter{l: o.logger},
	}
	// Transactions read many keys that do not exist yet (new assets are
	// checked for absence): bloom filters answer those without touching
	// the data blocks.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(path, po)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", path, err)
	}
	s := &Store{
		db: db, opts: o, sync: pebble.Sync,
		reqs: make(chan *request, 1024), done: make(chan struct{}),
		wake: make(chan struct{}), closedCh: make(chan struct{}),
	}
	if o.noSync {
		s.sync = pebble.NoSync
	}
	if err := s.recover(); err != nil {
		db.Close()
		return nil, fmt.Errorf("pebblestore: open %s: %w", path, err)
	}
	s.snap = &snapshot{s: db.NewSnapshot(), txNum: s.txNum, refs: 1}
	s.win = newWindow(s.txNum, o.window)
	s.cache = newReadCache(s.txNum, o.readCache)
	go s.committer()
	return s, nil
}

// recover reads the last transaction number and event sequence.
func (s *Store) recover() error {
	v, closer, err := s.db.Get(keyTxNum)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return err
	default:
		if len(v) != 8 {
			closer.Close()
			return errors.New("corrupt transaction number")
		}
		s.txNum = binary.BigEndian.Uint64(v)
		closer.Close()
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{spaceEvent}, UpperBound: []byte{spaceEvent + 1}})
	if err != nil {
		return err
	}
	if it.Last() {
		s.lastEv.Store(binary.BigEndian.Uint64(it.Key()[1:]))
	}
	return it.Close()
}

// Begin returns a Reader on the last durable state (see the package
// documentation).
func (s *Store) Begin(context.Context) (store.Reader, error) {
	r, err := s.begin()
	if err != nil {
		return nil, err
	}
	return r, nil
}

// begin is Begin with the concrete reader, for the store's own reads.
func (s *Store) begin() (*reader, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	s.readers.Add(1)
	s.snapMu.Lock()
	sn := s.snap
	sn.refs++
	s.snapMu.Unlock()
	return &reader{st: s, sn: sn, txNum: sn.txNum}, nil
}

func (s *Store) release(sn *snapshot) {
	s.snapMu.Lock()
	sn.refs--
	last := sn.refs == 0
	s.snapMu.Unlock()
	if last {
		sn.s.Close()
	}
}

type reader struct {
	st    *Store
	sn    *snapshot // nil once closed
	txNum uint64
}

// Snapshot implements store.Snapshotter: the number of the last
// transaction the Reader sees.
func (r *reader) Snapshot() uint64 { return r.txNum }

func stateKey(key string) []byte {
	k := make([]byte, 1+len(key))
	k[0] = spaceState
	copy(k[1:], key)
	return k
}

// get reads a state key through r (a snapshot or a batch): its version and
// a copy of its value, or "" and nil when absent.
func get(r pebble.Reader, key []byte) (store.Version, []byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("pebblestore: get: %w", err)
	}
	defer closer.Close()
	if len(v) < versionLen {
		return "", nil, fmt.Errorf("pebblestore: corrupt record of key %q", key[1:])
	}
	return store.Version(v[:versionLen]), bytes.Clone(v[versionLen:]), nil
}

func (r *reader) Get(ctx context.Context, key string) (store.KV, error) {
	kvs, err := r.GetMany(ctx, []string{key})
	if err != nil {
		return store.KV{}, err
	}
	return kvs[0], nil
}

func (r *reader) GetMany(_ context.Context, keys []string) ([]store.KV, error) {
	if r.sn == nil {
		return nil, store.ErrClosed
	}
	out := make([]store.KV, len(keys))
	c := r.st.cache
	var miss []int
	c.mu.Lock()
	for i, key := range keys {
		if e, ok := c.lookupLocked(key, r.txNum); ok {
			out[i] = store.KV{Key: key, Version: e.ver, Value: bytes.Clone(e.val)}
		} else {
			miss = append(miss, i)
		}
	}
	c.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	if err := r.read(keys, miss, out); err != nil {
		return nil, err
	}
	c.mu.Lock()
	for _, i := range miss {
		kv := out[i]
		c.fillLocked(kv.Key, r.txNum, kv.Version, bytes.Clone(kv.Value))
	}
	c.mu.Unlock()
	return out, nil
}

// read fills out[i] for each i of miss from the snapshot.
func (r *reader) read(keys []string, miss []int, out []store.KV) error {
	if len(miss) < 4 {
		for _, i := range miss {
			ver, val, err := get(r.sn.s, stateKey(keys[i]))
			if err != nil {
				return err
			}
			out[i] = store.KV{Key: keys[i], Value: val, Version: ver}
		}
		return nil
	}
	// One iterator seeking the keys in order costs less than a point
	// lookup each: a Get builds and tears down a merged iterator over every
	// memtable and level, a seek reuses it.
	slices.SortFunc(miss, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	it, err := r.sn.s.NewIter(&pebble.IterOptions{LowerBound: []byte{spaceState}, UpperBound: []byte{spaceState + 1}})
	if err != nil {
		return fmt.Errorf("pebblestore: get: %w", err)
	}
	var buf []byte
	for _, i := range miss {
		key := keys[i]
		out[i] = store.KV{Key: key}
		buf = append(append(buf[:0], spaceState), key...)
		// A prefix seek (the prefix is the whole key) consults the bloom
		// filters: absent keys, which transactions check for every new
		// asset, rarely touch a data block (3.6x faster in
		// BenchmarkGetMany/absent).
		if !it.SeekPrefixGE(buf) || !bytes.Equal(it.Key(), buf) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("pebblestore: get: %w", err)
		}
		if len(v) < versionLen {
			it.Close()
			return fmt.Errorf("pebblestore: corrupt record of key %q", key)
		}
		out[i].Version = store.Version(v[:versionLen])
		out[i].Value = bytes.Clone(v[versionLen:])
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("pebblestore: get: %w", err)
	}
	return nil
}

// stateBounds are the database bounds of the state range [start, end).
func stateBounds(start, end string) (lower, upper []byte) {
	lower = stateKey(start)
	if end == "" {
		return lower, []byte{spaceState + 1}
	}
	return lower, stateKey(end)
}

func (r *reader) Scan(_ context.Context, start, end string, limit int) ([]store.KV, error) {
	if r.sn == nil {
		return nil, store.ErrClosed
	}
	lower, upper := stateBounds(start, end)
	it, err := r.sn.s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: scan: %w", err)
	}
	var out []store.KV
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("pebblestore: scan: %w", err)
		}
		if len(v) < versionLen {
			it.Close()
			return nil, fmt.Errorf("pebblestore: corrupt record of key %q", it.Key()[1:])
		}
		out = append(out, store.KV{
			Key:     string(it.Key()[1:]),
			Version: store.Version(v[:versionLen]),
			Value:   bytes.Clone(v[versionLen:]),
		})
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("pebblestore: scan: %w", err)
	}
	return out, nil
}

func (r *reader) Close() error {
	if r.sn == nil {
		return nil
	}
	r.st.release(r.sn)
	r.sn = nil
	r.st.readers.Done()
	return nil
}

// Commit validates and applies b through the group committer (see the
// package documentation and store.Store).
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if len(b.Writes) == 0 && b.Event == nil {
		r, err := s.begin()
		if err != nil {
			return err
		}
		defer r.Close()
		return validate(r.sn.s, b)
	}
	req := newRequest(b)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	s.reqs <- req
	s.closeMu.RUnlock()
	// Once queued, the batch will be committed or rejected; wait for the
	// outcome even if ctx ends, so that the caller never mistakes a
	// committed batch for a failed one.
	return <-req.err
}

func (s *Store) committer() {
	defer close(s.done)
	group := make([]*request, 0, s.opts.maxGroup)
	for req := range s.reqs {
		group = append(group[:0], req)
	fill:
		for len(group) < s.opts.maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break fill
				}
				group = append(group, r)
			default:
				break fill
			}
		}
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*request) {
	results := make([]error, len(group))
	size := 64
	for _, req := range group {
		for i := range req.keys {
			size += len(req.keys[i]) + len(req.vals[i]) + 16
		}
	}
	batch := s.db.NewBatchWithSize(size)
	defer batch.Close()
	durable, txNum, lastEv := s.txNum, s.txNum, s.lastEv.Load()
	err := func() error {
		for i, req := range group {
			if req.bad != nil {
				results[i] = req.bad
				continue
			}
			if err := s.validate(req.b, durable); err != nil {
				results[i] = err
				continue
			}
			txNum++
			s.win.add(txNum, req.b.Writes)
			var ver [versionLen]byte
			binary.BigEndian.PutUint64(ver[:], txNum)
			for j, k := range req.keys {
				var err error
				if v := req.vals[j]; v != nil {
					copy(v, ver[:])
					err = batch.Set(k, v, nil)
				} else {
					err = batch.Delete(k, nil)
				}
				if err != nil {
					return fmt.Errorf("tx %s: write %q: %w", req.b.TxID, k[1:], err)
				}
			}
			if e := req.b.Event; e != nil {
				lastEv++
				var ek [9]byte
				ek[0] = spaceEvent
				binary.BigEndian.PutUint64(ek[1:], lastEv)
				if err := batch.Set(ek[:], encodeEvent(e), nil); err != nil {
					return fmt.Errorf("tx %s: append event: %w", req.b.TxID, err)
				}
			}
		}
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], txNum)
		if err := batch.Set(keyTxNum, n[:], nil); err != nil {
			return err
		}
		return batch.Commit(s.sync)
	}()
	if err != nil {
		// Nothing of the group was written; fail every batch that would
		// have been applied.
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("pebblestore: commit: %w", err)
			}
		}
		s.win.reset(durable)
	} else {
		s.txNum = txNum
		s.win.committed(txNum)
		// The cache must drop what the group changed before a Reader can
		// take the new snapshot (see readCache).
		s.cache.apply(group, results, txNum)
		s.publish(txNum, lastEv)
	}
	for i, req := range group {
		req.err <- results[i]
	}
}

// validate checks b against the state as of the last durable transaction
// plus the batches of the group accepted so far: from the window when it
// covers b's snapshot, else from the database.
func (s *Store) validate(b *store.Batch, durable uint64) error {
	var what string
	var ok bool
	if s.win.covers(b.Snapshot) {
		what, ok = s.win.validate(b)
	} else if what, ok = s.win.validatePending(b, durable); ok {
		return validate(s.db, b)
	}
	if !ok {
		return fmt.Errorf("tx %s: %q changed: %w", b.TxID, what, store.ErrConflict)
	}
	return nil
}

// publish makes the group just committed (durable) visible to new readers
// and to event waiters.
func (s *Store) publish(txNum, lastEv uint64) {
	next := &snapshot{s: s.db.NewSnapshot(), txNum: txNum, refs: 1}
	s.snapMu.Lock()
	old := s.snap
	s.snap = next
	s.snapMu.Unlock()
	s.release(old)
	if lastEv != s.lastEv.Load() {
		s.lastEv.Store(lastEv)
		s.wakeMu.Lock()
		close(s.wake)
		s.wake = make(chan struct{})
		s.wakeMu.Unlock()
	}
}

func validate(r pebble.Reader, b *store.Batch) error {
	var buf []byte
	for _, rd := range b.Reads {
		buf = append(append(buf[:0], spaceState), rd.Key...)
		var cur store.Version
		v, closer, err := r.Get(buf)
		switch {
		case errors.Is(err, pebble.ErrNotFound):
		case err != nil:
			return fmt.Errorf("pebblestore: tx %s: validate: %w", b.TxID, err)
		default:
			if len(v) >= versionLen {
				cur = store.Version(v[:versionLen])
			}
			closer.Close()
		}
		if cur != rd.Version {
			return fmt.Errorf("tx %s: key %q changed: %w", b.TxID, rd.Key, store.ErrConflict)
		}
	}
	for _, rr := range b.Ranges {
		if err := validateRange(r, b.TxID, rr); err != nil {
			return err
		}
	}
	return nil
}

func validateRange(r pebble.Reader, txID string, rr store.RangeRead) error {
	lower, upper := stateBounds(rr.Start, rr.End)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("pebblestore: tx %s: validate: %w", txID, err)
	}
	i := 0
	same := true
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("pebblestore: tx %s: validate: %w", txID, err)
		}
		if i >= len(rr.Results) || string(it.Key()[1:]) != rr.Results[i].Key ||
			len(v) < versionLen || string(v[:versionLen]) != string(rr.Results[i].Version) {
			same = false
			break
		}
		i++
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("pebblestore: tx %s: validate: %w", txID, err)
	}
	if !same || i != len(rr.Results) {
		return fmt.Errorf("tx %s: range [%q, %q) changed: %w", txID, rr.Start, rr.End, store.ErrConflict)
	}
	return nil
}

func encodeEvent(e *store.Event) []byte {
	buf := make([]byte, 0, 2*binary.MaxVarintLen64+len(e.TxID)+len(e.Name)+len(e.Payload))
	buf = binary.AppendUvarint(buf, uint64(len(e.TxID)))
	buf = append(buf, e.TxID...)
	buf = binary.AppendUvarint(buf, uint64(len(e.Name)))
	buf = append(buf, e.Name...)
	return append(buf, e.Payload...)
}

func decodeEvent(seq uint64, b []byte) (store.Event, error) {
	e := store.Event{Seq: seq}
	field := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", errors.New("pebblestore: corrupt event record")
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	var err error
	if e.TxID, err = field(); err != nil {
		return e, err
	}
	if e.Name, err = field(); err != nil {
		return e, err
	}
	e.Payload = bytes.Clone(b)
	return e, nil
}

// ReadEvents returns the durable events after the given position (see
// store.Store).
func (s *Store) ReadEvents(_ context.Context, after uint64, limit int) ([]store.Event, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	last := s.lastEv.Load()
	if after >= last {
		return nil, nil
	}
	var lower, upper [9]byte
	lower[0], upper[0] = spaceEvent, spaceEvent
	binary.BigEndian.PutUint64(lower[1:], after+1)
	// Events of a group being committed may already be in the database;
	// they are not durable yet.
	binary.BigEndian.PutUint64(upper[1:], last+1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower[:], UpperBound: upper[:]})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: read events: %w", err)
	}
	var out []store.Event
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("pebblestore: read events: %w", err)
		}
		e, err := decodeEvent(binary.BigEndian.Uint64(it.Key()[1:]), v)
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, e)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("pebblestore: read events: %w", err)
	}
	return out, nil
}

// WaitEvents blocks until an event after the given position is durable
// (see store.Store).
func (s *Store) WaitEvents(ctx context.Context, after uint64) error {
	for {
		s.wakeMu.Lock()
		wake := s.wake
		s.wakeMu.Unlock()
		if s.lastEv.Load() > after {
			return nil
		}
		select {
		case <-wake:
		case <-s.closedCh:
			return store.ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close waits for queued commits and for open Readers to be closed, then
// closes the database. Close is idempotent.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	close(s.closedCh)
	s.closeMu.Unlock()
	<-s.done
	s.readers.Wait()
	s.release(s.snap)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebblestore: close: %w", err)
	}
	return nil
}

// logAdapter sends Pebble's messages to slog.
type logAdapter struct{ l *slog.Logger }

func (a logAdapter) logger() *slog.Logger {
	if a.l != nil {
		return a.l
	}
	return slog.Default()
}

func (a logAdapter) Infof(format string, args ...any) {
	if a.l != nil {
		a.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (a logAdapter) Errorf(format string, args ...any) {
	a.logger().Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by Pebble when it cannot go on safely (for instance a
// failed log fsync); continuing could acknowledge writes that are lost, so
// the process stops, as Pebble's own logger does.
func (a logAdapter) Fatalf(format string, args ...any) {
	a.logger().Error(fmt.Sprintf(format, args...), "component", "pebble", "fatal", true)
	os.Exit(1)
}
