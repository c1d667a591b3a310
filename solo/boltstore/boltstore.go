// Package boltstore is the embedded, durable store.Store of solo: one bbolt
// file per channel (go.etcd.io/bbolt), no server to run.
//
// # Layout
//
// Each channel file holds three buckets: "state" (key -> 8-byte version ‖
// value), "events" (8-byte big-endian sequence -> encoded event) and "meta"
// (the last transaction number, from which versions are drawn). A version is
// the big-endian number of the transaction that last wrote the key; numbers
// are never reused, so a deleted and re-created key gets a new version.
//
// # Commits
//
// Commit validates and applies a batch inside a bbolt read-write
// transaction, which bbolt makes atomic and durable (the file is fsynced
// before the transaction returns). Because every fsync costs milliseconds,
// commits go through one committer goroutine per store that groups all the
// batches waiting at that moment into one bbolt transaction (group commit):
// each batch is validated against the state including the batches before it
// in the group, and applied or rejected on its own; then one fsync
// acknowledges them all. Throughput therefore grows with concurrency while
// every acknowledged commit stays durable. A batch that only reads is
// validated in a read transaction, without a write.
//
// Readers (Store.Begin) are bbolt read transactions: consistent snapshots.
//
// # Why bbolt
//
// bbolt is pure Go, a single file, gives ordered byte-keyed cursors (range
// and prefix scans), ACID read-write transactions and MVCC snapshots for
// readers — exactly the store contract — with no compaction or background
// goroutines. Its weakness, one fsync per write transaction, is what the
// group commit removes. LSM stores (LevelDB, Badger, Pebble) would write
// faster in bulk but bring background compaction and more dependencies;
// BenchmarkRawCommit in this package measures the raw limit.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fedchain/orchestrator/solo/store"
)

var (
	bucketState  = []byte("state")
	bucketEvents = []byte("events")
	bucketMeta   = []byte("meta")
	keyTxNum     = []byte("txnum")
)

const (
	versionLen = 8
	// stateFill is the fill factor of the state bucket's pages (see
	// commitGroup).
	stateFill = 0.7
)

// Option configures a Store.
type Option func(*options)

type options struct {
	maxGroup int
	noSync   bool
}

// WithMaxGroup bounds how many batches one group commit may hold
// (default 512).
func WithMaxGroup(n int) Option { return func(o *options) { o.maxGroup = max(n, 1) } }

// WithNoSync disables fsync. Commits are then NOT durable; for benchmarks
// and throw-away test data only.
func WithNoSync() Option { return func(o *options) { o.noSync = true } }

// Store is a store.Store on one bbolt file.
type Store struct {
	db   *bolt.DB
	opts options

	reqs     chan *request
	done     chan struct{} // closed when the committer exits
	closeMu  sync.RWMutex
	closed   bool
	txNum    uint64 // last transaction number; committer goroutine only
	lastEv   atomic.Uint64
	wakeMu   sync.Mutex
	wake     chan struct{}
	closedCh chan struct{}
}

type request struct {
	b *store.Batch
	// vals are the stored values of b.Writes (nil for deletes), each with
	// room for the version in front. The committing goroutine prepares them
	// (and checkWrites the batch) before queueing, so that the committer,
	// which every commit waits for, only stamps the version.
	vals [][]byte
	// keys are b.Writes' keys as bytes, for the same reason.
	keys [][]byte
	// bad is why the batch cannot be written at all (checkWrites).
	bad error
	err chan error
}

// newRequest prepares b for the committer.
func newRequest(b *store.Batch) *request {
	req := &request{b: b, err: make(chan error, 1)}
	if req.bad = checkWrites(b); req.bad != nil {
		return req
	}
	size := 0
	for _, w := range b.Writes {
		size += len(w.Key)
		if !w.Delete {
			size += versionLen + len(w.Value)
		}
	}
	// One allocation for all the keys and values: bbolt keeps references
	// to the values until the transaction commits, and they die with the
	// request.
	buf := make([]byte, size)
	req.vals = make([][]byte, len(b.Writes))
	req.keys = make([][]byte, len(b.Writes))
	for i, w := range b.Writes {
		n := len(w.Key)
		req.keys[i] = buf[:n:n]
		copy(buf, w.Key)
		buf = buf[n:]
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

var channelFile = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Opener returns a store.Opener keeping each channel in dir/<channel>.db.
func Opener(dir string, opts ...Option) store.Opener {
	return store.OpenerFunc(func(_ context.Context, channel string) (store.Store, error) {
		if !channelFile.MatchString(channel) {
			return nil, fmt.Errorf("boltstore: invalid channel name %q", channel)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("boltstore: %w", err)
		}
		return Open(filepath.Join(dir, channel+".db"), opts...)
	})
}

// Open opens (creating if needed) the store file at path. The file is
// locked: a second Open of the same file fails after one second.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{maxGroup: 512}
	for _, f := range opts {
		f(&o)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         time.Second,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 28,
		NoSync:          o.noSync,
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{
		db: db, opts: o, reqs: make(chan *request, 1024), done: make(chan struct{}),
		wake: make(chan struct{}), closedCh: make(chan struct{}),
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketState, bucketEvents, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if v := tx.Bucket(bucketMeta).Get(keyTxNum); v != nil {
			s.txNum = binary.BigEndian.Uint64(v)
		}
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			s.lastEv.Store(binary.BigEndian.Uint64(k))
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: init %s: %w", path, err)
	}
	go s.committer()
	return s, nil
}

// Begin returns a snapshot Reader (a bbolt read transaction).
func (s *Store) Begin(context.Context) (store.Reader, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("boltstore: begin: %w", err)
	}
	return &reader{tx: tx, b: tx.Bucket(bucketState)}, nil
}

type reader struct {
	tx *bolt.Tx
	b  *bolt.Bucket
}

func decodeKV(key string, v []byte) store.KV {
	if v == nil {
		return store.KV{Key: key}
	}
	return store.KV{
		Key:     key,
		Version: store.Version(v[:versionLen]),
		Value:   bytes.Clone(v[versionLen:]),
	}
}

func (r *reader) Get(_ context.Context, key string) (store.KV, error) {
	if r.tx == nil {
		return store.KV{}, store.ErrClosed
	}
	return decodeKV(key, r.b.Get([]byte(key))), nil
}

func (r *reader) GetMany(_ context.Context, keys []string) ([]store.KV, error) {
	if r.tx == nil {
		return nil, store.ErrClosed
	}
	out := make([]store.KV, len(keys))
	for i, k := range keys {
		out[i] = decodeKV(k, r.b.Get([]byte(k)))
	}
	return out, nil
}

func (r *reader) Scan(_ context.Context, start, end string, limit int) ([]store.KV, error) {
	if r.tx == nil {
		return nil, store.ErrClosed
	}
	return scan(r.b, start, end, limit), nil
}

func scan(b *bolt.Bucket, start, end string, limit int) []store.KV {
	var out []store.KV
	c := b.Cursor()
	endB := []byte(end)
	for k, v := c.Seek([]byte(start)); k != nil; k, v = c.Next() {
		if end != "" && bytes.Compare(k, endB) >= 0 {
			break
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, decodeKV(string(k), v))
	}
	return out
}

func (r *reader) Close() error {
	if r.tx == nil {
		return nil
	}
	err := r.tx.Rollback()
	r.tx = nil
	return err
}

// Commit validates and applies b through the group committer (see the
// package documentation and store.Store).
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if len(b.Writes) == 0 && b.Event == nil {
		s.closeMu.RLock()
		defer s.closeMu.RUnlock()
		if s.closed {
			return store.ErrClosed
		}
		return s.db.View(func(tx *bolt.Tx) error { return validate(tx.Bucket(bucketState), b) })
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
	txNum := s.txNum
	lastEv := s.lastEv.Load()
	newEvents := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		state, events := tx.Bucket(bucketState), tx.Bucket(bucketEvents)
		// bbolt splits a full page at FillPercent (default 0.5). The event
		// log is append-only: full pages. The state gets both appends (time
		// indexes) and random inserts (asset keys); 0.7 wrote 12% fewer
		// pages than 0.5 for the load tool's workload (bench/solo), and as
		// few as 0.9.
		state.FillPercent, events.FillPercent = stateFill, 1
		for i, req := range group {
			if req.bad != nil {
				results[i] = req.bad
				continue
			}
			if err := validate(state, req.b); err != nil {
				results[i] = err
				continue
			}
			txNum++
			var ver [versionLen]byte
			binary.BigEndian.PutUint64(ver[:], txNum)
			for j, w := range req.b.Writes {
				var err error
				if w.Delete {
					err = state.Delete(req.keys[j])
				} else {
					v := req.vals[j]
					copy(v, ver[:])
					err = state.Put(req.keys[j], v)
				}
				if err != nil {
					return fmt.Errorf("tx %s: write %q: %w", req.b.TxID, w.Key, err)
				}
			}
			if e := req.b.Event; e != nil {
				lastEv++
				var seq [8]byte
				binary.BigEndian.PutUint64(seq[:], lastEv)
				if err := events.Put(seq[:], encodeEvent(e)); err != nil {
					return fmt.Errorf("tx %s: append event: %w", req.b.TxID, err)
				}
				newEvents = true
			}
		}
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], txNum)
		return tx.Bucket(bucketMeta).Put(keyTxNum, n[:])
	})
	if err != nil {
		// Nothing of the group was written; fail every batch that would
		// have been applied.
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("boltstore: commit: %w", err)
			}
		}
	} else {
		s.txNum = txNum
		if newEvents {
			s.lastEv.Store(lastEv)
			s.wakeMu.Lock()
			close(s.wake)
			s.wake = make(chan struct{})
			s.wakeMu.Unlock()
		}
	}
	for i, req := range group {
		req.err <- results[i]
	}
}

// checkWrites rejects, before anything is written, the writes bbolt would
// refuse (which would fail the whole group).
func checkWrites(b *store.Batch) error {
	for _, w := range b.Writes {
		switch {
		case w.Key == "":
			return fmt.Errorf("boltstore: tx %s: empty key", b.TxID)
		case len(w.Key) > bolt.MaxKeySize:
			return fmt.Errorf("boltstore: tx %s: key of %d bytes exceeds %d", b.TxID, len(w.Key), bolt.MaxKeySize)
		case len(w.Value)+versionLen > bolt.MaxValueSize:
			return fmt.Errorf("boltstore: tx %s: value of key %q too large", b.TxID, w.Key)
		}
	}
	return nil
}

func validate(state *bolt.Bucket, b *store.Batch) error {
	for _, r := range b.Reads {
		var cur store.Version
		if v := state.Get([]byte(r.Key)); v != nil {
			cur = store.Version(v[:versionLen])
		}
		if cur != r.Version {
			return fmt.Errorf("tx %s: key %q changed: %w", b.TxID, r.Key, store.ErrConflict)
		}
	}
	for _, rr := range b.Ranges {
		c := state.Cursor()
		endB := []byte(rr.End)
		i := 0
		for k, v := c.Seek([]byte(rr.Start)); k != nil; k, v = c.Next() {
			if rr.End != "" && bytes.Compare(k, endB) >= 0 {
				break
			}
			if i >= len(rr.Results) || string(k) != rr.Results[i].Key || string(v[:versionLen]) != string(rr.Results[i].Version) {
				return fmt.Errorf("tx %s: range [%q, %q) changed: %w", b.TxID, rr.Start, rr.End, store.ErrConflict)
			}
			i++
		}
		if i != len(rr.Results) {
			return fmt.Errorf("tx %s: range [%q, %q) changed: %w", b.TxID, rr.Start, rr.End, store.ErrConflict)
		}
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
			return "", errors.New("boltstore: corrupt event record")
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

// ReadEvents returns the events after the given position (see store.Store).
func (s *Store) ReadEvents(_ context.Context, after uint64, limit int) ([]store.Event, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	var out []store.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		var from [8]byte
		binary.BigEndian.PutUint64(from[:], after+1)
		for k, v := c.Seek(from[:]); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			e, err := decodeEvent(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// WaitEvents blocks until an event after the given position is committed
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

// Close waits for queued commits, then closes the file. Close is
// idempotent.
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
	return s.db.Close()
}
