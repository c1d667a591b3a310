package pebblestore

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"

	"github.com/fedchain/orchestrator/solo/store"
)

// readCache keeps recently read state keys in memory, in front of Pebble,
// whose point lookups cost microseconds each (a walk of every memtable and
// level) while a transaction reads hundreds of the same hot keys (data
// samples, functions, plans).
//
// The cache only ever holds a key's latest committed version (or nothing),
// which makes it valid for every snapshot at or after that version: a
// Reader on snapshot S may use an entry written by transaction t <= S, and
// misses otherwise. It also remembers keys found absent (new assets are
// checked for absence, then written, then read again): such an entry is
// valid from the snapshot that saw the absence on. The committer keeps it so: once a group is durable and
// before its snapshot is published, it replaces or drops the entries of
// the keys the group wrote. A Reader may add what it read only if no group
// was applied since its snapshot (applied == S); otherwise the value may be
// stale and is not cached.
type readCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	applied uint64 // the last transaction applied to the cache
	bytes   int    // of keys and values held
	max     int    // bound of bytes
}

type cacheEntry struct {
	txNum uint64
	ver   store.Version
	val   []byte
}

func newReadCache(applied uint64, max int) *readCache {
	return &readCache{entries: make(map[string]cacheEntry), applied: applied, max: max}
}

// lookupLocked returns the entry of key usable on snapshot, if any.
func (c *readCache) lookupLocked(key string, snapshot uint64) (cacheEntry, bool) {
	e, ok := c.entries[key]
	if !ok || e.txNum > snapshot {
		return cacheEntry{}, false
	}
	return e, true
}

// fillLocked adds what a Reader on snapshot read, when still current.
// val is not copied: the caller gives up ownership.
func (c *readCache) fillLocked(key string, snapshot uint64, ver store.Version, val []byte) {
	size := len(key) + len(val)
	if snapshot != c.applied || size > c.max/16 {
		return
	}
	if old, ok := c.entries[key]; ok {
		delete(c.entries, key)
		c.bytes -= len(key) + len(old.val)
	}
	for k, e := range c.entries { // Go's map order evicts at random
		if c.bytes+size <= c.max {
			break
		}
		delete(c.entries, k)
		c.bytes -= len(k) + len(e.val)
	}
	e := cacheEntry{txNum: versionNum(ver), ver: ver, val: val}
	if ver == "" {
		// An absent key: absent as of this snapshot, and since then (a
		// write would have replaced the entry), but maybe not before it.
		e.txNum = snapshot
	}
	// The caller's key may be cut from a larger string.
	key = strings.Clone(key)
	c.entries[key] = e
	c.bytes += size
}

// apply records a durable group: keys it wrote that the cache holds take
// their new value (vals[i] is the stored record, version first; nil for a
// delete), and applied moves to the group's last transaction.
func (c *readCache) apply(group []*request, results []error, maxTx uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, req := range group {
		if results[i] != nil {
			continue
		}
		for j, w := range req.b.Writes {
			e, ok := c.entries[w.Key]
			if !ok {
				continue
			}
			c.bytes -= len(w.Key) + len(e.val)
			v := req.vals[j]
			if v == nil {
				delete(c.entries, w.Key)
				continue
			}
			// A copy: the value lives in one buffer with every key and
			// value of its request, which the entry must not pin.
			e.ver = store.Version(v[:versionLen])
			e.txNum = versionNum(e.ver)
			e.val = bytes.Clone(v[versionLen:])
			c.entries[w.Key] = e
			c.bytes += len(w.Key) + len(e.val)
		}
	}
	c.applied = maxTx
}

// versionNum is the transaction number a version holds.
func versionNum(v store.Version) uint64 {
	if len(v) != versionLen {
		return 0
	}
	return binary.BigEndian.Uint64([]byte(v))
}
