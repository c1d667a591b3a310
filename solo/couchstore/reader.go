package couchstore

import (
	"context"
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
	rs := s.db.AllDocs(ctx, kivik.Params(map[string]any{"keys": ids, "include_docs": true}))
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

// scan returns the present keys in [start, end) (end "" = unbounded), at
// most limit (<= 0: all).
func (s *Store) scan(ctx context.Context, start, end string, limit int) ([]store.KV, error) {
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
	rs := s.db.AllDocs(ctx, kivik.Params(p))
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

// Begin returns a Reader on the live state (see the package doc).
func (s *Store) Begin(context.Context) (store.Reader, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	return &reader{s: s}, nil
}

type reader struct {
	s      *Store
	closed bool
}

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
	ds, err := r.s.fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.KV, len(keys))
	for i, d := range ds {
		out[i] = d.kv(keys[i])
	}
	return out, nil
}

// Scan returns the present keys in [start, end), in byte order.
func (r *reader) Scan(ctx context.Context, start, end string, limit int) ([]store.KV, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.s.scan(ctx, start, end, limit)
}

// Close releases the reader.
func (r *reader) Close() error {
	r.closed = true
	return nil
}
