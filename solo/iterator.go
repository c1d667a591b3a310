package solo

import (
	"errors"
	"fmt"

	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"

	"github.com/fedchain/orchestrator/solo/store"
)

// rangeIter is a state query iterator. It reads the store in batches and
// keeps everything it fetched, which is what the transaction is validated
// against (the peer likewise records what it fetched for the chaincode).
type rangeIter struct {
	s          *stub
	start, end string
	next       string // where the next fetch starts
	remaining  int    // records the total query limit still allows
	buf        []store.KV
	fetched    []store.KV
	exhausted  bool
	closed     bool
	err        error
}

// fetch reads the next batch; the caller holds s.mu.
func (it *rangeIter) fetch() error {
	if it.exhausted || it.remaining <= 0 {
		return nil
	}
	n := min(fetchSize, it.remaining)
	kvs, err := it.s.r.Scan(it.s.ctx, it.next, it.end, n)
	if err != nil {
		it.s.readFailed(err)
		return fmt.Errorf("range query: %w", err)
	}
	it.remaining -= len(kvs)
	if len(kvs) < n {
		it.exhausted = true
	} else {
		it.next = kvs[len(kvs)-1].Key + "\x00"
	}
	it.buf = append(it.buf, kvs...)
	it.fetched = append(it.fetched, kvs...)
	return nil
}

// HasNext reports whether Next has a result (or an error) to return.
func (it *rangeIter) HasNext() bool {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	if it.closed {
		return false
	}
	if len(it.buf) > 0 || it.err != nil {
		return true
	}
	if err := it.fetch(); err != nil {
		it.err = err
		return true
	}
	return len(it.buf) > 0
}

// Next returns the next key and value.
func (it *rangeIter) Next() (*queryresult.KV, error) {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	if it.closed {
		return nil, errors.New("iterator is closed")
	}
	if it.err != nil {
		err := it.err
		it.err = nil
		return nil, err
	}
	if len(it.buf) == 0 {
		if err := it.fetch(); err != nil {
			return nil, err
		}
		if len(it.buf) == 0 {
			return nil, errors.New("no such key")
		}
	}
	kv := it.buf[0]
	it.buf = it.buf[1:]
	return &queryresult.KV{Namespace: it.s.p.cfg.chaincodeName, Key: kv.Key, Value: kv.Value}, nil
}

// Close releases the iterator.
func (it *rangeIter) Close() error {
	it.s.mu.Lock()
	defer it.s.mu.Unlock()
	it.closed = true
	it.buf = nil
	return nil
}

// rangeRead is what the transaction saw of the range: every fetched record,
// up to the end of the range if it was exhausted, else up to and including
// the last fetched key.
func (it *rangeIter) rangeRead() store.RangeRead {
	rr := store.RangeRead{Start: it.start, End: it.end}
	if !it.exhausted && len(it.fetched) > 0 {
		rr.End = it.fetched[len(it.fetched)-1].Key + "\x00"
	}
	rr.Results = make([]store.KeyVersion, len(it.fetched))
	for i, kv := range it.fetched {
		rr.Results[i] = store.KeyVersion{Key: kv.Key, Version: kv.Version}
	}
	return rr
}
