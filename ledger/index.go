package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// defaultPageSize is the page size of list queries that ask for none.
const defaultPageSize = 50

// scanChunk is how many records a paginated scan asks the stub for at a
// time when it filters what it reads.
const scanChunk = 100

// marker is the value of index entries: the peer treats an empty value as
// a deletion, so entries hold one byte.
var marker = []byte{0}

// errStop, returned by a scan callback, ends the scan without error.
var errStop = errors.New("ledger: stop scan")

// indexKey returns the composite key of an entry of index with the given
// attributes.
func indexKey(index string, attrs ...string) (string, error) {
	k, err := compositeKey(index, attrs...)
	if err != nil {
		return "", orcerr.Wrap(orcerr.InvalidAsset, err, "invalid index attribute")
	}
	return k, nil
}

// putIndex adds the entry (index, attrs...) with a one-byte value.
func (l *Tx) putIndex(index string, attrs ...string) error {
	return l.putIndexValue(index, marker, attrs...)
}

// putIndexValue adds the entry (index, attrs...) holding value (which must
// not be empty).
func (l *Tx) putIndexValue(index string, value []byte, attrs ...string) error {
	k, err := indexKey(index, attrs...)
	if err != nil {
		return err
	}
	return l.PutState(k, value)
}

// delIndex removes the entry (index, attrs...).
func (l *Tx) delIndex(index string, attrs ...string) error {
	k, err := indexKey(index, attrs...)
	if err != nil {
		return err
	}
	return l.DelState(k)
}

// moveIndex replaces the entry (index, from...) by (index, to...); it does
// nothing when both are equal.
func (l *Tx) moveIndex(index string, from, to []string) error {
	if slices.Equal(from, to) {
		return nil
	}
	if err := l.delIndex(index, from...); err != nil {
		return err
	}
	return l.putIndex(index, to...)
}

// scanIndex calls fn, in key order, with the attributes and value of each
// entry of index whose attributes start with prefix. It is an unpaginated
// scan, usable in update transactions; it sees the transaction's own
// writes. fn may return errStop to end the scan early.
func (l *Tx) scanIndex(index string, prefix []string, fn func(attrs []string, value []byte) error) error {
	it, err := l.GetStateByPartialCompositeKey(index, prefix)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "scan %s", index)
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return orcerr.Wrap(orcerr.Internal, err, "scan %s", index)
		}
		_, attrs, err := splitKey(kv.GetKey())
		if err != nil {
			return orcerr.Wrap(orcerr.Internal, err, "scan %s", index)
		}
		if err := fn(attrs, kv.GetValue()); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// indexLast returns, for each entry of index under prefix, its last
// attribute (by convention the key of the indexed asset), in key order.
func (l *Tx) indexLast(index string, prefix ...string) ([]string, error) {
	var keys []string
	err := l.scanIndex(index, prefix, func(attrs []string, _ []byte) error {
		if len(attrs) > 0 {
			keys = append(keys, attrs[len(attrs)-1])
		}
		return nil
	})
	return keys, err
}

// scanEntry is one record met by a paginated scan.
type scanEntry struct {
	Key   string   // the state key
	Attrs []string // its composite key attributes (nil for simple keys)
	Value []byte
}

// pager describes one page of a paginated, filtered scan.
type pager struct {
	// Token is the page token of the request ("" for the first page).
	Token string
	// Size is the page size; 0 means defaultPageSize.
	Size int
	// Load, if set, is called with each chunk of entries read from the
	// stub before Keep sees them (to batch-load what they point at).
	Load func(chunk []scanEntry) error
	// Keep is called with each entry in key order and reports whether the
	// entry belongs to the page (it counts toward Size).
	Keep func(e scanEntry) (bool, error)
}

// pageIndex reads one page of the entries of index under prefix, in key
// order, and returns the token of the next page ("" after the last). It
// uses paginated scans, so it is for read-only (evaluate) transactions.
func (l *Tx) pageIndex(index string, prefix []string, p pager) (string, error) {
	start, err := compositeKey(index, prefix...)
	if err != nil {
		return "", orcerr.Wrap(orcerr.InvalidAsset, err, "invalid index attribute")
	}
	scan := func(bookmark string, n int32) ([]scanEntry, string, error) {
		it, meta, err := l.ChaincodeStubInterface.GetStateByPartialCompositeKeyWithPagination(index, prefix, n, bookmark)
		if err != nil {
			return nil, "", err
		}
		return drain(it, meta.GetBookmark(), true)
	}
	return l.page(start, start+maxRune, p, scan)
}

// pageRange is PageIndex over the simple keys in [start, end).
func (l *Tx) pageRange(start, end string, p pager) (string, error) {
	scan := func(bookmark string, n int32) ([]scanEntry, string, error) {
		it, meta, err := l.ChaincodeStubInterface.GetStateByRangeWithPagination(start, end, n, bookmark)
		if err != nil {
			return nil, "", err
		}
		return drain(it, meta.GetBookmark(), false)
	}
	return l.page(start, end, p, scan)
}

const maxRune = "\U0010FFFF"

func drain(it shim.StateQueryIteratorInterface, bookmark string, composite bool) ([]scanEntry, string, error) {
	defer it.Close()
	var out []scanEntry
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, "", err
		}
		e := scanEntry{Key: kv.GetKey(), Value: kv.GetValue()}
		if composite {
			if _, e.Attrs, err = splitKey(e.Key); err != nil {
				return nil, "", err
			}
		}
		out = append(out, e)
	}
	return out, bookmark, nil
}

// encodeToken turns a state key into an opaque page token.
func encodeToken(key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// decodeToken returns the state key of a page token, checking it lies in
// [start, end] (a state database may hand out the end of the range as the
// bookmark of an exhausted scan; the next page is then empty).
func decodeToken(token, start, end string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || string(b) < start || (end != "" && string(b) > end) {
		return "", orcerr.New(orcerr.BadRequest, "invalid page token %q", token)
	}
	return string(b), nil
}

func (l *Tx) page(start, end string, p pager, scan func(bookmark string, n int32) ([]scanEntry, string, error)) (string, error) {
	size := p.Size
	if size <= 0 {
		size = defaultPageSize
	}
	bookmark, err := decodeToken(p.Token, start, end)
	if err != nil {
		return "", err
	}
	kept, dropped := 0, false
	for {
		n := size - kept + 1
		if p.Load != nil {
			n = min(n, scanChunk)
		}
		if dropped {
			// Keep filters: read ahead rather than scan a few at a time.
			n = max(n, scanChunk)
		}
		chunk, next, err := scan(bookmark, int32(n))
		if err != nil {
			return "", orcerr.Wrap(orcerr.Internal, err, "paginated scan")
		}
		if p.Load != nil && len(chunk) > 0 {
			if err := p.Load(chunk); err != nil {
				return "", err
			}
		}
		for _, e := range chunk {
			if kept == size {
				return encodeToken(e.Key), nil
			}
			ok, err := p.Keep(e)
			if err != nil {
				return "", err
			}
			if ok {
				kept++
			} else {
				dropped = true
			}
		}
		if next == "" || len(chunk) == 0 {
			return "", nil
		}
		if kept == size {
			return encodeToken(next), nil
		}
		bookmark = next
	}
}

// splitKey splits a composite key into its object type and attributes.
func splitKey(key string) (string, []string, error) {
	if len(key) < 2 || key[0] != 0 || key[len(key)-1] != 0 {
		return "", nil, fmt.Errorf("%q is not a composite key", key)
	}
	parts := strings.Split(key[1:len(key)-1], "\x00")
	return parts[0], parts[1:], nil
}
