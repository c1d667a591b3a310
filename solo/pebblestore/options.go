package pebblestore

import (
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

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
	fs        vfs.FS
	cache     *pebble.Cache // shared by the channels of one Opener; nil: the Store's own
	slabs     *sharedCache  // read cache shared by the channels of one Opener; nil: the Store's own
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
// keys in front of Pebble (default 128 MiB, shared by the channels of one
// Opener; 0 disables it). It is allocated as it fills, by 64 MiB, outside
// the Go heap, and rounded up to 32 MiB.
func WithReadCache(bytes int) Option { return func(o *options) { o.readCache = max(bytes, 0) } }

// WithNoSync disables the fsync of the write-ahead log. Commits are then
// NOT durable; for benchmarks and throw-away test data only.
func WithNoSync() Option { return func(o *options) { o.noSync = true } }

// WithCacheSize sets the size in bytes of Pebble's block cache (default
// 128 MiB; see Memory in the package documentation).
func WithCacheSize(n int64) Option { return func(o *options) { o.cacheSize = n } }

// WithMemTableSize sets the size in bytes of Pebble's memtable (default
// 16 MiB): larger ones flush and compact less often, smaller ones make
// point reads of keys not in the read cache cheaper.
func WithMemTableSize(n uint64) Option { return func(o *options) { o.memTable = n } }

// WithLogger receives Pebble's own messages: informational ones at debug
// level, background errors at error level. The default drops informational
// messages and sends errors to slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithFS runs the database on fs instead of the operating system's file
// system: the power-loss tests use Pebble's crashable in-memory file system,
// which keeps only what was synced.
func WithFS(fs vfs.FS) Option { return func(o *options) { o.fs = fs } }
