package couchstore

import (
	"slices"
	"time"

	"github.com/fedchain/orchestrator/solo/store"
)

// This file holds the in-memory knowledge of a Store (see "Cache" in the
// package doc). Every method here expects the caller to hold Store.mu.

// cached is what the process knows of one state document id.
type cached struct {
	// The key's value as of the process's head (or of a later commit, see
	// the package doc): present with value and seq, or absent (seq 0).
	present bool
	value   []byte
	seq     uint64

	// doc* describe the state document on the server as this process last
	// saw or wrote it, so that the applier can update it without reading
	// it first; docKnown false: unknown, read before writing.
	docKnown   bool
	docRev     string
	docSeq     uint64
	docDeleted bool
}

func (c *cached) size() int { return 96 + len(c.value) }

// pendingWrite is the newest write of a key by a journal entry that this
// process knows but has not seen applied.
type pendingWrite struct {
	seq     uint64
	value   []byte
	deleted bool
}

// entry is a journal entry known to this process and not yet applied by it.
type entry struct {
	seq     uint64
	writes  []commitWrite
	foreign bool      // written by another process (or by this one, answer lost)
	learned time.Time // when this process learned of it
}

// windowEntry lists the state ids written by one recent journal entry.
type windowEntry struct {
	seq uint64
	ids []string
}

// memState is the cache, the overlay of unapplied writes and the window of
// recently written ids.
type memState struct {
	cache      map[string]*cached
	cacheBytes int
	maxBytes   int
	// complete is set while the cache holds every present key of the
	// channel (it was filled from the whole state, or the channel was
	// empty, and nothing was evicted since): a miss is then an absent key,
	// known without a request.
	complete bool
	// order holds the present ids in order while complete, so that scans
	// are served from memory too; nil otherwise.
	order *sortedIDs
	// evictions counts evictions: a cold read caches what it read only if
	// nothing was evicted meanwhile (an evicted newer value would otherwise
	// be replaced by the older one read).
	evictions uint64

	pending   map[string]pendingWrite // id -> newest unapplied write
	unapplied []*entry                // (applied, head], in order
	// unappliedBytes is the size of the write sets of unapplied.
	unappliedBytes int

	window     []windowEntry // newest last
	windowIDs  int
	windowFrom uint64 // every entry in (windowFrom, head] is in window

	// gen moves whenever the server's state documents may have changed
	// under a read of this process that cannot see it (an entry learned or
	// applied): scans made across a move are repeated.
	gen uint64
}

const (
	// defaultCacheBytes bounds the cache (WithCacheBytes).
	defaultCacheBytes = 128 << 20
	// maxWindowIDs bounds the ids kept in the window of recent writes.
	maxWindowIDs = 1 << 16
)

func newMemState(maxBytes int) *memState {
	return &memState{
		cache:    map[string]*cached{},
		maxBytes: maxBytes,
		pending:  map[string]pendingWrite{},
	}
}

// lookup returns what the process knows of id's current value.
func (m *memState) lookup(id string) (present bool, value []byte, seq uint64, ok bool) {
	if c, hit := m.cache[id]; hit {
		return c.present, c.value, c.seq, true
	}
	if p, hit := m.pending[id]; hit {
		if p.deleted {
			return false, nil, 0, true
		}
		return true, p.value, p.seq, true
	}
	return false, nil, 0, false
}

// entryFor returns id's cache entry, creating it (unknown value) if needed.
func (m *memState) entryFor(id string) *cached {
	c, ok := m.cache[id]
	if !ok {
		c = &cached{}
		m.cache[id] = c
		m.cacheBytes += c.size()
	}
	return c
}

// setValue records id's current value.
func (m *memState) setValue(id string, present bool, value []byte, seq uint64) {
	c := m.entryFor(id)
	m.cacheBytes -= c.size()
	c.present, c.value, c.seq = present, value, seq
	if !present {
		c.value, c.seq = nil, 0
	}
	m.cacheBytes += c.size()
	if m.order != nil {
		if present {
			m.order.insert(id)
		} else {
			m.order.remove(id)
		}
	}
}

// setComplete records that the cache holds every present key.
func (m *memState) setComplete() {
	m.complete = true
	m.order = &sortedIDs{}
	ids := make([]string, 0, len(m.cache))
	for id, c := range m.cache {
		if c.present {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for i := 0; i < len(ids); i += chunkMax / 2 {
		m.order.chunks = append(m.order.chunks, slices.Clone(ids[i:min(i+chunkMax/2, len(ids))]))
	}
	m.order.n = len(ids)
}

// scan returns the present keys in [startID, endID) from memory, at most
// limit (<= 0: all); ok is false unless the cache is complete.
func (m *memState) scan(startID, endID string, limit int) (kvs []store.KV, ok bool, err error) {
	if !m.complete || m.order == nil {
		return nil, false, nil
	}
	m.order.walk(startID, endID, func(id string) bool {
		c := m.cache[id]
		var k string
		if k, err = keyOfStateID(id); err != nil {
			return false
		}
		v := c.value
		if v == nil {
			v = []byte{}
		}
		kvs = append(kvs, store.KV{Key: k, Value: v, Version: version(c.seq)})
		return limit <= 0 || len(kvs) < limit
	})
	return kvs, err == nil, err
}

// fill caches what a read of the server found for id, unless the cache
// learned something newer meanwhile (id cached, or an eviction since
// evictionsBefore).
func (m *memState) fill(id string, d docState, evictionsBefore uint64) {
	if _, ok := m.cache[id]; ok || m.evictions != evictionsBefore {
		return
	}
	if _, ok := m.pending[id]; ok {
		return // the overlay is newer than the document
	}
	m.setValue(id, d.exists, d.value, d.seq)
	c := m.cache[id]
	if d.exists || d.deleted {
		c.docKnown, c.docRev, c.docSeq, c.docDeleted = true, d.rev, d.seq, d.deleted
		if d.deleted {
			c.docSeq = 0 // a tombstone's "s" is not in _all_docs
			c.docKnown = false
		}
	} else {
		c.docKnown, c.docRev, c.docSeq, c.docDeleted = true, "", 0, false
	}
	m.evict()
}

// learn records journal entry seq (head+1): its writes become the current
// values, the overlay and the window; the entry waits for the applier.
func (m *memState) learn(seq uint64, writes []commitWrite, foreign bool, now time.Time) {
	ids := make([]string, len(writes))
	for i, w := range writes {
		ids[i] = w.ID
		if _, ok := m.cache[w.ID]; !ok && m.complete {
			// Absent from a complete cache: no document, or a tombstone
			// of this process's time; either way written without revision.
			c := m.entryFor(w.ID)
			c.docKnown = true
		}
		if w.Delete {
			m.setValue(w.ID, false, nil, 0)
		} else {
			v := w.Value
			if v == nil {
				v = []byte{}
			}
			m.setValue(w.ID, true, v, seq)
		}
		m.pending[w.ID] = pendingWrite{seq: seq, value: w.Value, deleted: w.Delete}
	}
	m.unapplied = append(m.unapplied, &entry{seq: seq, writes: writes, foreign: foreign, learned: now})
	m.unappliedBytes += writesBytes(writes)
	m.window = append(m.window, windowEntry{seq: seq, ids: ids})
	m.windowIDs += len(ids)
	for len(m.window) > 1 && m.windowIDs > maxWindowIDs {
		m.windowIDs -= len(m.window[0].ids)
		m.windowFrom = m.window[0].seq
		m.window = m.window[1:]
	}
	m.gen++
	m.evict()
}

// applied records that the first n unapplied entries are applied to the
// state documents; docs gives the documents' new revisions (id -> rev,
// seq, deleted) as the applier wrote them.
func (m *memState) applied(n int, docs map[string]docState) {
	done := m.unapplied[:n]
	last := done[len(done)-1].seq
	for _, e := range done {
		m.unappliedBytes -= writesBytes(e.writes)
		for _, w := range e.writes {
			if p, ok := m.pending[w.ID]; ok && p.seq <= last {
				delete(m.pending, w.ID)
			}
		}
	}
	m.unapplied = append(m.unapplied[:0:0], m.unapplied[n:]...)
	for id, d := range docs {
		if c, ok := m.cache[id]; ok {
			c.docKnown, c.docRev, c.docSeq, c.docDeleted = d.rev != "", d.rev, d.seq, d.deleted
		}
	}
	m.gen++
}

// forgetDoc drops what the process knows of id's document (it changed on
// the server behind its back).
func (m *memState) forgetDoc(id string) {
	if c, ok := m.cache[id]; ok {
		c.docKnown = false
	}
}

// touched reports whether an entry in (after, head] wrote an id in
// [startID, endID), and whether the window covers that interval at all.
func (m *memState) touched(after uint64, startID, endID string) (touched, covered bool) {
	if after < m.windowFrom {
		return false, false
	}
	for i := len(m.window) - 1; i >= 0 && m.window[i].seq > after; i-- {
		for _, id := range m.window[i].ids {
			if id >= startID && id < endID {
				return true, true
			}
		}
	}
	return false, true
}

// evict drops cache entries (in map order, which is arbitrary enough) until
// the cache is under 7/8 of its bound. Overlay entries are never evicted.
func (m *memState) evict() {
	if m.cacheBytes <= m.maxBytes {
		return
	}
	target := m.maxBytes / 8 * 7
	for id, c := range m.cache {
		if m.cacheBytes <= target {
			break
		}
		m.cacheBytes -= c.size()
		delete(m.cache, id)
	}
	m.evictions++
	m.complete, m.order = false, nil
}

// writesBytes is the size of a write set, as the bound of the unapplied
// entries counts it.
func writesBytes(writes []commitWrite) int {
	n := 0
	for _, w := range writes {
		n += len(w.ID) + len(w.Value) + 16
	}
	return n
}
