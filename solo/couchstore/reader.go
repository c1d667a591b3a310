package couchstore

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/go-kivik/kivik/v4"

	"github.com/fedchain/orchestrator/solo/store"
)

// stateDoc is the body of a state document ("k" + encoded key).
type stateDoc struct {
	Seq   uint64 `json:"s"`
	Value []byte `json:"v"`
}

// docState is what _all_docs tells about one document id.
type docState struct {
	exists  bool // a live document
	deleted bool // a tombstone
	rev     string
	seq     uint64 // "s" of a live document (of a tombstone: unknown, 0)
	value   []byte
}

func (d docState) kv(key string) store.KV {
	if !d.exists {
		return store.KV{Key: key}
	}
	v := d.value
	if v == nil {
		v = []byte{}
	}
	return store.KV{Key: key, Value: v, Version: version(d.seq)}
}

func version(seq uint64) store.Version { return store.Version(strconv.FormatUint(seq, 10)) }

// fetch returns the state of each id, in order (POST _all_docs with keys and
// include_docs). Missing and deleted documents are reported as such; any
// other row error fails the call.
func (s *Store) fetch(ctx context.Context, ids []string) ([]docState, error) {
	out := make([]docState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rs := s.sdb.AllDocs(ctx, kivik.Params(map[string]any{"keys": ids, "include_docs": true}))
	defer rs.Close()
	i := 0
	for rs.Next() {
		if i >= len(ids) {
			return nil, s.errf("_all_docs returned more rows than keys")
		}
		id, _ := rs.ID()
		var val struct {
			Rev     string `json:"rev"`
			Deleted bool   `json:"deleted"`
		}
		if err := rs.ScanValue(&val); err != nil {
			return nil, s.wrap(err, "read %s", ids[i])
		}
		if val.Rev == "" {
			// {"key": id, "error": "not_found"}: kivik's couchdb driver
			// gives such rows no value (and no error).
			i++
			continue
		}
		if id != "" && id != ids[i] {
			return nil, s.errf("_all_docs row %d is %q, want %q", i, id, ids[i])
		}
		d := docState{rev: val.Rev, deleted: val.Deleted}
		if !val.Deleted {
			var doc stateDoc
			if err := rs.ScanDoc(&doc); err != nil {
				return nil, s.wrap(err, "decode %s", ids[i])
			}
			d.exists, d.seq, d.value = true, doc.Seq, doc.Value
		}
		out[i] = d
		i++
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap(err, "read %d documents", len(ids))
	}
	if i != len(ids) {
		return nil, s.errf("_all_docs returned %d rows for %d keys", i, len(ids))
	}
	return out, nil
}

// getMany returns what is known of each id: from the cache or the
// overlay, else read from the server (one request for all the misses) and
// cached.
func (s *Store) getMany(ctx context.Context, ids []string) (map[string]docState, error) {
	out := make(map[string]docState, len(ids))
	var miss []string
	s.mu.Lock()
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		if present, value, seq, ok := s.mem.lookup(id); ok {
			out[id] = docState{exists: present, value: value, seq: seq}
			continue
		}
		out[id] = docState{}
		if !s.mem.complete {
			miss = append(miss, id)
		}
	}
	evictions := s.mem.evictions
	s.mu.Unlock()
	if len(miss) == 0 {
		return out, nil
	}
	ds, err := s.fetch(ctx, miss)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range miss {
		if present, value, seq, ok := s.mem.lookup(id); ok {
			// Learned while we read: newer than what we read.
			out[id] = docState{exists: present, value: value, seq: seq}
			continue
		}
		s.mem.fill(id, ds[i], evictions)
		out[id] = ds[i]
	}
	return out, nil
}

// maxScanTries bounds the repetitions of a scan across which the process
// learned or applied entries.
const maxScanTries = 5

// scan returns the present keys in [start, end) (end "" = unbounded), at
// most limit (<= 0: all), as the state documents plus the overlay of the
// entries this process knows unapplied give them. A scan during which the
// process learned or applied an entry is repeated (an entry applied
// meanwhile could be missing from both the documents read and the overlay
// taken before); stable is false if that went on for maxScanTries.
func (s *Store) scan(ctx context.Context, start, end string, limit int) (kvs []store.KV, stable bool, err error) {
	if end != "" && end <= start {
		return nil, true, nil
	}
	startID, endID := rangeBounds(start, end)
	s.mu.Lock()
	kvs, ok, err := s.mem.scan(startID, endID, limit)
	s.mu.Unlock()
	if ok || err != nil {
		return kvs, err == nil, err
	}
	for try := 0; try < maxScanTries; try++ {
		s.mu.Lock()
		gen := s.mem.gen
		overlay := map[string]pendingWrite{}
		for id, p := range s.mem.pending {
			if id >= startID && id < endID {
				overlay[id] = p
			}
		}
		s.mu.Unlock()
		kvs, err = s.scanDocsOverlay(ctx, start, end, limit, overlay)
		if err != nil {
			return nil, false, err
		}
		s.mu.Lock()
		stable = s.mem.gen == gen
		s.mu.Unlock()
		if stable {
			break
		}
	}
	return kvs, stable, nil
}

// scanDocsOverlay is scanDocs with the pending writes of overlay (by state
// id) laid over.
func (s *Store) scanDocsOverlay(ctx context.Context, start, end string, limit int, overlay map[string]pendingWrite) ([]store.KV, error) {
	n := limit
	if limit > 0 {
		n = limit + len(overlay)
	}
	got, err := s.scanDocs(ctx, start, end, n)
	if err != nil || len(overlay) == 0 {
		return got, err
	}
	// got holds every document key up to n; the overlay removes at most
	// len(overlay) of them, so the first limit of the merge are exact.
	merged := map[string]store.KV{}
	for _, kv := range got {
		merged[kv.Key] = kv
	}
	for id, p := range overlay {
		k, err := keyOfStateID(id)
		if err != nil {
			return nil, err
		}
		if p.deleted {
			delete(merged, k)
			continue
		}
		val := p.value
		if val == nil {
			val = []byte{}
		}
		merged[k] = store.KV{Key: k, Value: val, Version: version(p.seq)}
	}
	keys := slices.Sorted(maps.Keys(merged))
	if limit > 0 && len(got) == n && len(got) > 0 {
		// Document keys after the last one read are unknown: cut there.
		last := got[len(got)-1].Key
		keys = slices.DeleteFunc(keys, func(k string) bool { return k > last })
	}
	out := make([]store.KV, 0, len(keys))
	for _, k := range keys {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, merged[k])
	}
	return out, nil
}

// scanDocs returns the present state documents in [start, end) (end "" =
// unbounded), at most limit (<= 0: all).
func (s *Store) scanDocs(ctx context.Context, start, end string, limit int) ([]store.KV, error) {
	endID := stateEnd
	if end != "" {
		if end <= start {
			return nil, nil
		}
		endID = stateID(end)
	}
	p := map[string]any{
		"startkey":      stateID(start),
		"endkey":        endID,
		"inclusive_end": false,
		"include_docs":  true,
	}
	if limit > 0 {
		p["limit"] = limit
	}
	rs := s.sdb.AllDocs(ctx, kivik.Params(p))
	defer rs.Close()
	var out []store.KV
	for rs.Next() {
		id, err := rs.ID()
		if err != nil {
			return nil, s.wrap(err, "scan")
		}
		key, err := keyOfStateID(id)
		if err != nil {
			return nil, s.wrap(err, "scan")
		}
		var doc stateDoc
		if err := rs.ScanDoc(&doc); err != nil {
			return nil, s.wrap(err, "scan: decode %s", id)
		}
		out = append(out, docState{exists: true, seq: doc.Seq, value: doc.Value}.kv(key))
	}
	if err := rs.Err(); err != nil {
		return nil, s.wrap(err, "scan [%q, %q)", start, end)
	}
	return out, nil
}

// Begin returns a Reader on the state this process knows (see the package
// doc). It costs no request.
func (s *Store) Begin(context.Context) (store.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	return &reader{s: s, snapshot: s.head}, nil
}

type reader struct {
	s        *Store
	snapshot uint64
	closed   bool
}

// Snapshot implements store.Reader: the head of the process at Begin.
// Every read of the reader reflects at least that commit (a later one too,
// possibly: the number is a lower bound, which is what validation needs).
func (r *reader) Snapshot() uint64 { return r.snapshot }

func (r *reader) check() error {
	if r.closed || r.s.isClosed() {
		return store.ErrClosed
	}
	return nil
}

// Get returns key's value and version.
func (r *reader) Get(ctx context.Context, key string) (store.KV, error) {
	kvs, err := r.GetMany(ctx, []string{key})
	if err != nil {
		return store.KV{}, err
	}
	return kvs[0], nil
}

// GetMany returns one KV per key, in order.
func (r *reader) GetMany(ctx context.Context, keys []string) ([]store.KV, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = stateID(k)
	}
	ds, err := r.s.getMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.KV, len(keys))
	for i, id := range ids {
		out[i] = ds[id].kv(keys[i])
	}
	return out, nil
}

// Scan returns the present keys in [start, end), in byte order.
func (r *reader) Scan(ctx context.Context, start, end string, limit int) ([]store.KV, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	kvs, _, err := r.s.scan(ctx, start, end, limit)
	return kvs, err
}

// Close releases the reader.
func (r *reader) Close() error {
	r.closed = true
	return nil
}
