package ledger

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Tx is the ledger view of one transaction. It is itself a
// shim.ChaincodeStubInterface: it embeds the transaction's stub and overrides
// the state methods so that
//
//   - reads see the transaction's own earlier writes (the peer's stub does
//     not), and repeated reads of a key cost one stub call;
//   - writes are buffered and handed to the stub once, in key order, inside
//     StartWriteBatch/FinishWriteBatch, when the transaction is flushed;
//   - unpaginated range and partial composite key scans merge the buffered
//     writes into the stub's results.
//
// Paginated scans go straight to the stub (they are for read-only
// transactions). A Tx is not safe for concurrent use.
type Tx struct {
	shim.ChaincodeStubInterface

	// values caches what the transaction knows of a key: read from the
	// stub or written by the transaction (then dirty until flushed).
	values map[string]slot
	// dirty lists the keys written (put or deleted) and not yet flushed,
	// once each, in the order of their first write: a write appends to a
	// slice, and costs no more map update than the one of values.
	dirty []string
	// byObject groups dirty[:grouped] by object type (the first part of a
	// composite key; "" for simple keys) so that a scan looks only at the
	// writes it may meet. Scans bring it up to date when they need it.
	byObject map[string][]string
	grouped  int

	events  []*protos.Event
	encoded [][]byte // events[i] encoded at Emit time
	// bodies[i] is what the state keeps of events[i] beside what its log
	// entry says for all of them (eventBody): a compute task event refers
	// to the task's record instead of holding a copy of it (see
	// EmitComputeTask).
	bodies  [][]byte
	mspID   string
	ts      *timestamppb.Timestamp
	flushed bool
}

// New returns the ledger view of the transaction run by stub. mspID is the
// caller's MSP id; when empty it is read from the stub's creator on demand.
func New(stub shim.ChaincodeStubInterface, mspID string) *Tx {
	return &Tx{
		ChaincodeStubInterface: stub,
		values:                 make(map[string]slot, 16),
		mspID:                  mspID,
	}
}

var _ shim.ChaincodeStubInterface = (*Tx)(nil)

// slot is what a transaction knows of a key: its value (nil when absent)
// and whether the transaction wrote it.
type slot struct {
	v     []byte
	dirty bool
}

// Stub returns the underlying stub (whose reads do not see this
// transaction's buffered writes).
func (l *Tx) Stub() shim.ChaincodeStubInterface { return l.ChaincodeStubInterface }

// Caller returns the MSP id of the transaction's creator.
func (l *Tx) Caller() (string, error) {
	if l.mspID != "" {
		return l.mspID, nil
	}
	b, err := l.ChaincodeStubInterface.GetCreator()
	if err != nil {
		return "", orcerr.Wrap(orcerr.Internal, err, "read transaction creator")
	}
	var id msp.SerializedIdentity
	if err := proto.Unmarshal(b, &id); err != nil {
		return "", orcerr.Wrap(orcerr.Internal, err, "decode transaction creator")
	}
	if id.GetMspid() == "" {
		return "", orcerr.New(orcerr.PermissionDenied, "transaction creator has no MSP id")
	}
	l.mspID = id.GetMspid()
	return l.mspID, nil
}

// Now returns the transaction timestamp (the same on every endorser). It
// is the only clock contracts may use.
func (l *Tx) Now() (*timestamppb.Timestamp, error) {
	if l.ts != nil {
		return timestamppb.New(l.ts.AsTime()), nil
	}
	ts, err := l.ChaincodeStubInterface.GetTxTimestamp()
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read transaction timestamp")
	}
	if ts == nil {
		return nil, orcerr.New(orcerr.Internal, "transaction has no timestamp")
	}
	// Kept normalized, so that a copy of its fields (Tx.stamp) is what
	// this returns.
	l.ts = timestamppb.New(ts.AsTime())
	return timestamppb.New(ts.AsTime()), nil
}

// Grow makes room for n more keys in the transaction's cache, which holds
// every key the transaction read or wrote: a transaction that knows it
// will touch many keys (a batch of tasks writes about fourteen per task)
// sizes it once instead of letting it double, and rehash, several times.
func (l *Tx) Grow(n int) {
	if n <= 0 {
		return
	}
	m := make(map[string]slot, len(l.values)+n)
	maps.Copy(m, l.values)
	l.values = m
	l.dirty = slices.Grow(l.dirty, n)
}

// GetState returns the value of key as this transaction sees it: its own
// write if any, else the committed value (cached for later reads).
func (l *Tx) GetState(key string) ([]byte, error) {
	if s, ok := l.values[key]; ok {
		return s.v, nil
	}
	v, err := l.ChaincodeStubInterface.GetState(key)
	if err != nil {
		return nil, err
	}
	l.values[key] = slot{v: v}
	return v, nil
}

// GetMultipleStates returns the values of keys in order (nil for absent
// keys); keys already known to the transaction are not read again, the
// others are read with one stub call.
func (l *Tx) GetMultipleStates(keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	var missing []string
	var at []int
	for i, k := range keys {
		if s, ok := l.values[k]; ok {
			out[i] = s.v
			continue
		}
		missing = append(missing, k)
		at = append(at, i)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		v, err := l.GetState(missing[0])
		if err != nil {
			return nil, err
		}
		out[at[0]] = v
		return out, nil
	}
	vals, err := l.fetch(missing)
	if err != nil {
		return nil, err
	}
	if len(missing) > len(l.values) {
		// A large batch read (the samples of a task batch): grow the
		// cache once instead of doubling it several times.
		m := make(map[string]slot, 2*(len(l.values)+len(missing)))
		maps.Copy(m, l.values)
		l.values = m
	}
	for j, v := range vals {
		l.values[missing[j]] = slot{v: v}
		out[at[j]] = v
	}
	return out, nil
}

// fetch reads keys from the stub in one call.
func (l *Tx) fetch(keys []string) ([][]byte, error) {
	vals, err := l.ChaincodeStubInterface.GetMultipleStates(keys...)
	if err != nil {
		return nil, err
	}
	if len(vals) != len(keys) {
		return nil, errors.New("get multiple states: stub returned a wrong number of values")
	}
	return vals, nil
}

// GetMultipleStatesUncached is GetMultipleStates for values read once: the
// keys the transaction does not know yet are read from the stub in one call
// but not added to its cache (a later read of them goes to the stub
// again). Large one-off batch reads use it so that the cache, a map that
// every other read and write of the transaction goes through, stays small.
func (l *Tx) GetMultipleStatesUncached(keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	missing := make([]string, 0, len(keys))
	at := make([]int, 0, len(keys))
	for i, k := range keys {
		if s, ok := l.values[k]; ok {
			out[i] = s.v
			continue
		}
		missing = append(missing, k)
		at = append(at, i)
	}
	if len(missing) == 0 {
		return out, nil
	}
	vals, err := l.fetch(missing)
	if err != nil {
		return nil, err
	}
	for j, v := range vals {
		out[at[j]] = v
	}
	return out, nil
}

// PutState buffers a write of key; an empty value deletes the key, as on
// the peer. value must not be modified after the call.
func (l *Tx) PutState(key string, value []byte) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	if len(value) == 0 {
		value = nil
	}
	if !l.values[key].dirty {
		l.dirty = append(l.dirty, key)
	}
	l.values[key] = slot{v: value, dirty: true}
	return nil
}

// DelState buffers the deletion of key.
func (l *Tx) DelState(key string) error {
	return l.PutState(key, nil)
}

// GetStateByRange runs an unpaginated range scan and merges the
// transaction's buffered writes into it.
func (l *Tx) GetStateByRange(startKey, endKey string) (shim.StateQueryIteratorInterface, error) {
	it, err := l.ChaincodeStubInterface.GetStateByRange(startKey, endKey)
	if err != nil {
		return nil, err
	}
	if startKey == "" {
		startKey = "\x01"
	}
	return l.merge(it, "", func(k string) bool {
		return k >= startKey && (endKey == "" || k < endKey)
	})
}

// GetStateByPartialCompositeKey runs an unpaginated partial composite key
// scan and merges the transaction's buffered writes into it.
func (l *Tx) GetStateByPartialCompositeKey(objectType string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	it, err := l.ChaincodeStubInterface.GetStateByPartialCompositeKey(objectType, attrs)
	if err != nil {
		return nil, err
	}
	prefix, err := compositeKey(objectType, attrs...)
	if err != nil {
		return nil, err
	}
	return l.merge(it, objectType, func(k string) bool { return strings.HasPrefix(k, prefix) })
}

// GetStateByRangeWithPagination passes through to the stub: paginated
// scans belong to read-only transactions, which have no buffered writes.
func (l *Tx) GetStateByRangeWithPagination(startKey, endKey string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return l.ChaincodeStubInterface.GetStateByRangeWithPagination(startKey, endKey, pageSize, bookmark)
}

// objectOf returns the object type of a composite key, "" for a simple
// key.
func objectOf(key string) string {
	if len(key) == 0 || key[0] != 0 {
		return ""
	}
	if i := strings.IndexByte(key[1:], 0); i >= 0 {
		return key[1 : 1+i]
	}
	return key[1:]
}

// merge drains it and overlays the buffered writes of object type obj whose
// keys satisfy in. When the transaction wrote nothing in the range, it is
// returned as is.
func (l *Tx) merge(it shim.StateQueryIteratorInterface, obj string, in func(string) bool) (shim.StateQueryIteratorInterface, error) {
	if l.grouped < len(l.dirty) {
		if l.byObject == nil {
			l.byObject = make(map[string][]string, 8)
		}
		for _, k := range l.dirty[l.grouped:] {
			o := objectOf(k)
			l.byObject[o] = append(l.byObject[o], k)
		}
		l.grouped = len(l.dirty)
	}
	var touched []string
	for _, k := range l.byObject[obj] {
		if in(k) {
			touched = append(touched, k)
		}
	}
	if len(touched) == 0 {
		return it, nil
	}
	defer it.Close()
	rows := map[string][]byte{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, err
		}
		rows[kv.GetKey()] = kv.GetValue()
	}
	for _, k := range touched {
		if v := l.values[k].v; v != nil {
			rows[k] = v
		} else {
			delete(rows, k)
		}
	}
	keys := slices.Sorted(maps.Keys(rows))
	out := &sliceIter{}
	for _, k := range keys {
		out.kvs = append(out.kvs, &queryresult.KV{Key: k, Value: rows[k]})
	}
	return out, nil
}

// Flush writes the buffered writes and the transaction's events to the
// stub: the events are stored in the state and set as the transaction's
// single chaincode event. It runs once; later calls do nothing.
func (l *Tx) Flush() error {
	if l.flushed {
		return nil
	}
	l.flushed = true
	if err := l.storeEvents(); err != nil {
		return err
	}
	if len(l.dirty) > 0 {
		// The transaction is over: its list of writes may be sorted in
		// place.
		keys := l.dirty
		slices.Sort(keys)
		stub := l.ChaincodeStubInterface
		stub.StartWriteBatch()
		for _, k := range keys {
			var err error
			if v := l.values[k].v; v == nil {
				err = stub.DelState(k)
			} else {
				err = stub.PutState(k, v)
			}
			if err != nil {
				return orcerr.Wrap(orcerr.Internal, err, "write state")
			}
		}
		if err := stub.FinishWriteBatch(); err != nil {
			return orcerr.Wrap(orcerr.Internal, err, "write state")
		}
		// The cached slots keep their dirty marks: the transaction is
		// over, and clearing them would cost a map update per key.
		l.dirty, l.byObject, l.grouped = nil, nil, 0
	}
	return l.setChaincodeEvent()
}

// errRichQuery is returned by the rich query methods.
var errRichQuery = errors.New("ledger: rich queries are not allowed; use a composite-key index")

// GetQueryResult always fails: contracts use composite-key indexes, never
// rich (CouchDB) queries, so that they run on any state database.
func (l *Tx) GetQueryResult(string) (shim.StateQueryIteratorInterface, error) {
	return nil, errRichQuery
}

// GetQueryResultWithPagination always fails, like GetQueryResult.
func (l *Tx) GetQueryResultWithPagination(string, int32, string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return nil, nil, errRichQuery
}
