package ledger

import (
	"errors"

	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
)

// sliceIter is a state query iterator over records already in memory.
type sliceIter struct {
	kvs []*queryresult.KV
	pos int
}

// HasNext reports whether Next has a record to return.
func (it *sliceIter) HasNext() bool { return it.pos < len(it.kvs) }

// Next returns the next record.
func (it *sliceIter) Next() (*queryresult.KV, error) {
	if it.pos >= len(it.kvs) {
		return nil, errors.New("no more records")
	}
	kv := it.kvs[it.pos]
	it.pos++
	return kv, nil
}

// Close releases nothing.
func (it *sliceIter) Close() error { return nil }
