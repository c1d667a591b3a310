package pebblestore

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/fastcache"

	"github.com/fedchain/orchestrator/solo/store"
)

// readCache keeps recently read state keys in memory, in front of Pebble,
// whose point lookups cost microseconds each (a walk of every memtable and
// level) while a transaction reads hundreds of the same hot keys (data
// samples, functions, plans) and event pages read the record of every task
// they show.
//
// The cache only ever holds a key's latest committed version (or nothing),
// which makes it valid for every snapshot at or after that version: a
// Reader on snapshot S may use an entry written by transaction t <= S, and
// misses otherwise. It also remembers keys found absent (new assets are
// checked for absence, then written, then read again): such an entry is
// valid from the snapshot that saw the absence on. The committer keeps it
// so: once a group is durable and before its snapshot is published, it
// replaces or drops the entries of the keys the group wrote. A Reader may
// add what it read only if no group was applied since its snapshot
// (applied == S); otherwise the value may be stale and is not cached.
// Fills and applies take mu; lookups need not: an entry a lookup finds is
// either one the rules above allow for its snapshot or one of a later
// transaction, which it skips.
//
// The entries live in a fastcache (github.com/VictoriaMetrics/fastcache):
// byte slabs allocated outside the Go heap, so that a cache of hundreds of
// MiB costs the garbage collector nothing (a Go map of that size made
// collection a quarter of the CPU of event walks over 100,000 tasks), and
// evicted bucket by bucket, oldest first, within a fixed budget.
type readCache struct {
	slabs  *sharedCache // nil: no cache
	prefix [8]byte      // this store's namespace in slabs

	mu      sync.Mutex
	applied uint64 // the last transaction applied to the cache
}

// sharedCache is the memory of the read caches of the stores of one
// Opener: one budget whatever the number of channels. Each Open takes a
// namespace of its own, so that entries of an earlier Open of the same
// folder (which another process may have written since) are never seen;
// they age out.
type sharedCache struct {
	fc   *fastcache.Cache
	gens atomic.Uint64
}

// newSharedCache returns a cache of about max bytes (fastcache rounds up
// to 32 MiB), or nil when max is 0.
func newSharedCache(max int) *sharedCache {
	if max <= 0 {
		return nil
	}
	return &sharedCache{fc: fastcache.New(max)}
}

// maxCachedValue bounds the values cached: fastcache keeps entries under
// 64 KiB, and a few large values would push out many records.
const maxCachedValue = 16 << 10

// Entry layout: transaction number (8 bytes, big-endian), presence (1 byte),
// then for a present key its version (versionLen bytes) and its value.
const entryHeader = 9

func newReadCache(applied uint64, slabs *sharedCache) *readCache {
	c := &readCache{slabs: slabs, applied: applied}
	if slabs != nil {
		binary.BigEndian.PutUint64(c.prefix[:], slabs.gens.Add(1))
	}
	return c
}

// appendKey appends the cache key of a state key to dst.
func (c *readCache) appendKey(dst []byte, key string) []byte {
	return append(append(dst, c.prefix[:]...), key...)
}

// scratch is the reusable buffers of a Reader's cache lookups and fills.
type scratch struct{ k, e []byte }

// lookup returns the entry of key usable on snapshot, if any: its version
// ("" for absent) and its value, which the caller owns.
func (c *readCache) lookup(s *scratch, key string, snapshot uint64) (store.Version, []byte, bool) {
	if c.slabs == nil {
		return "", nil, false
	}
	s.k = c.appendKey(s.k[:0], key)
	// A fresh buffer: the value handed out is a slice of it, with no
	// second copy.
	e, ok := c.slabs.fc.HasGet(nil, s.k)
	if !ok || len(e) < entryHeader || binary.BigEndian.Uint64(e) > snapshot {
		return "", nil, false
	}
	if e[8] == 0 {
		return "", nil, true
	}
	if len(e) < entryHeader+versionLen {
		return "", nil, false
	}
	ver := store.Version(e[entryHeader : entryHeader+versionLen])
	return ver, e[entryHeader+versionLen : len(e) : len(e)], true
}

// fillLocked adds what a Reader on snapshot read, when still current.
func (c *readCache) fillLocked(s *scratch, key string, snapshot uint64, ver store.Version, val []byte) {
	if c.slabs == nil || snapshot != c.applied || len(key)+len(val) > maxCachedValue {
		return
	}
	txNum := versionNum(ver)
	if ver == "" {
		// An absent key: absent as of this snapshot, and since then (a
		// write would have replaced the entry), but maybe not before it.
		txNum = snapshot
	}
	s.k = c.appendKey(s.k[:0], key)
	s.e = appendEntry(s.e[:0], txNum, ver, val)
	c.slabs.fc.Set(s.k, s.e)
}

// appendEntry appends the cache entry of a key's version and value.
func appendEntry(dst []byte, txNum uint64, ver store.Version, val []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, txNum)
	if ver == "" {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = append(dst, ver...)
	return append(dst, val...)
}

// apply records a durable group: keys it wrote that the cache holds take
// their new value (vals[i] is the stored record, version first; nil for a
// delete), and applied moves to the group's last transaction.
func (c *readCache) apply(group []*request, results []error, maxTx uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied = maxTx
	if c.slabs == nil {
		return
	}
	var k, e []byte
	for i, req := range group {
		if results[i] != nil {
			continue
		}
		for j, w := range req.b.Writes {
			k = c.appendKey(k[:0], w.Key)
			// Only the keys it holds: writing every key through cost more
			// budget (index entries are scanned, never looked up) than it
			// saved in the 100,000-task read benchmark.
			if !c.slabs.fc.Has(k) {
				continue
			}
			v := req.vals[j]
			if v == nil || len(w.Key)+len(v) > maxCachedValue {
				c.slabs.fc.Del(k)
				continue
			}
			ver := store.Version(v[:versionLen])
			e = appendEntry(e[:0], versionNum(ver), ver, v[versionLen:])
			c.slabs.fc.Set(k, e)
		}
	}
}

// versionNum is the transaction number a version holds.
func versionNum(v store.Version) uint64 {
	if len(v) != versionLen {
		return 0
	}
	return binary.BigEndian.Uint64([]byte(v))
}
