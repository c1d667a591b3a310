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
// Each open channel holds two or three memtables (16 MiB each) and the
// commit window (about 10 MiB), some 60 MiB whatever the size of the
// state. The channels of one Opener share Pebble's block cache (128 MiB)
// and the read cache (128 MiB, outside the Go heap), which fill only as
// the states grow. With 32 MiB of block cache, a state of 100,000 tasks
// evicted the bloom filter and index blocks that every point read
// consults, and reads went to the files: GetTask and QueryTasks ran 3-4x
// slower than with 1,000 tasks. With a 32 MiB read cache, event walks of
// such a state looked up most task records in Pebble; 128 MiB holds them.
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
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/fedchain/orchestrator/solo/store"
)

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

	txNum    uint64  // last transaction number; committer goroutine only
	win      *window // committer goroutine only
	cache    *readCache
	ownSlabs *sharedCache // the read cache's memory, when not an Opener's

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

// defaultCacheSize is the size of Pebble's block cache (see Memory).
const defaultCacheSize = 128 << 20

// defaultReadCache is the budget of the read cache (see Memory).
const defaultReadCache = 128 << 20

var channelDir = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Opener returns a store.Opener keeping each channel in the folder
// dir/<channel>.pebble. Its channels share one Pebble block cache (of
// WithCacheSize), so the memory of the block cache does not grow with the
// number of channels; the Opener keeps it for its whole life.
func Opener(dir string, opts ...Option) store.Opener {
	o := options{cacheSize: defaultCacheSize, readCache: defaultReadCache}
	for _, f := range opts {
		f(&o)
	}
	shared, slabs := pebble.NewCache(o.cacheSize), newSharedCache(o.readCache)
	opts = append(opts[:len(opts):len(opts)], func(o *options) { o.cache, o.slabs = shared, slabs })
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
	o := options{maxGroup: 512, window: 1 << 16, readCache: defaultReadCache, cacheSize: defaultCacheSize, memTable: 16 << 20}
	for _, f := range opts {
		f(&o)
	}
	cache := o.cache
	if cache == nil {
		cache = pebble.NewCache(o.cacheSize)
		defer cache.Unref() // the database holds its own reference
	}
	po := &pebble.Options{
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       o.memTable,
		Logger:             logAdapter{l: o.logger},
		FS:                 o.fs,
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
	slabs := o.slabs
	if slabs == nil {
		slabs = newSharedCache(o.readCache)
		s.ownSlabs = slabs
	}
	s.cache = newReadCache(s.txNum, slabs)
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
	if s.ownSlabs != nil {
		s.ownSlabs.fc.Reset() // gives its memory back
	}
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
