package solo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/solo/store"
)

const (
	compositeKeyNamespace = "\x00"
	emptyKeySubstitute    = "\x01"
	maxRune               = string(utf8.MaxRune)
	// fetchSize is how many records a range iterator reads from the store
	// at a time. The peer sends results to the chaincode in batches of 100
	// and reads one record ahead to know whether more follow, so its first
	// batch covers 101 records (and a range of exactly 100 is exhausted);
	// fetching 101 reproduces what it records for validation.
	fetchSize = 101
)

// stub implements shim.ChaincodeStubInterface for one execution of one
// transaction.
type stub struct {
	ctx      context.Context
	p        *Peer
	r        store.Reader
	txID     string
	channel  string
	args     [][]byte
	creator  []byte
	nonce    []byte
	ts       time.Time
	trans    map[string][]byte
	readOnly bool // Evaluate: nothing is validated or committed

	mu             sync.Mutex
	reads          map[string]store.Version
	ranges         []*rangeIter
	writes         writeSet
	writeBatch     writeSet // pending writes between Start/FinishWriteBatch
	inWriteBatch   bool
	event          *store.Event
	wrote          bool
	paginatedQuery bool
	// storeErr is the first read error of the store: the chaincode sees
	// it as an error of its own, but the caller must learn that the store
	// failed (Unavailable), not that the chaincode did.
	storeErr error
}

// readError returns the first store read error of the execution.
func (s *stub) readError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeErr
}

// readFailed records a store read error; the caller holds s.mu.
func (s *stub) readFailed(err error) {
	if s.storeErr == nil {
		s.storeErr = err
	}
}

var _ shim.ChaincodeStubInterface = (*stub)(nil)

func newStub(ctx context.Context, p *Peer, st store.Store, txID string, prop Proposal, creator, nonce []byte, ts time.Time, readOnly bool) (*stub, error) {
	r, err := st.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("solo: begin: %w", err)
	}
	return &stub{
		ctx: ctx, p: p, r: r, txID: txID, channel: prop.Channel, args: prop.Args,
		creator: creator, nonce: nonce, ts: ts, trans: prop.Transient, readOnly: readOnly,
	}, nil
}

func (s *stub) closeReader() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.Close()
}

// batch returns the commit request of the execution.
func (s *stub) batch() *store.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &store.Batch{TxID: s.txID, Event: s.event, Snapshot: s.r.Snapshot()}
	for _, k := range slices.Sorted(maps.Keys(s.reads)) {
		b.Reads = append(b.Reads, store.KeyVersion{Key: k, Version: s.reads[k]})
	}
	for _, it := range s.ranges {
		b.Ranges = append(b.Ranges, it.rangeRead())
	}
	b.Writes = s.writes.sorted()
	return b
}

// recordRead notes the version a read observed; the first observation of a
// key is the one validated.
func (s *stub) recordRead(key string, v store.Version) {
	if s.readOnly {
		return
	}
	if s.reads == nil {
		s.reads = map[string]store.Version{}
	}
	if _, ok := s.reads[key]; !ok {
		s.reads[key] = v
	}
}

func checkKey(key string) error {
	if !utf8.ValidString(key) {
		return fmt.Errorf("key %q is not a valid UTF-8 string", key)
	}
	return nil
}

// ---- arguments and transaction data ----

func (s *stub) GetArgs() [][]byte { return s.args }

func (s *stub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}

func (s *stub) GetFunctionAndParameters() (string, []string) {
	args := s.GetStringArgs()
	if len(args) == 0 {
		return "", []string{}
	}
	return args[0], args[1:]
}

func (s *stub) GetArgsSlice() ([]byte, error) {
	var res []byte
	for _, a := range s.args {
		res = append(res, a...)
	}
	if res == nil {
		res = []byte{}
	}
	return res, nil
}

func (s *stub) GetTxID() string      { return s.txID }
func (s *stub) GetChannelID() string { return s.channel }

func (s *stub) GetCreator() ([]byte, error) { return s.creator, nil }

func (s *stub) GetTransient() (map[string][]byte, error) { return s.trans, nil }

// GetBinding returns SHA-256(nonce ‖ creator ‖ epoch as 8 little-endian
// bytes), as Fabric computes it (the epoch is 0).
func (s *stub) GetBinding() ([]byte, error) {
	h := sha256.New()
	h.Write(s.nonce)
	h.Write(s.creator)
	var epoch [8]byte
	binary.LittleEndian.PutUint64(epoch[:], 0)
	h.Write(epoch[:])
	return h.Sum(nil), nil
}

func (s *stub) GetDecorations() map[string][]byte { return map[string][]byte{} }

func (s *stub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	return timestamppb.New(s.ts), nil
}

// GetSignedProposal builds the proposal a Fabric client would have sent for
// this transaction; its signature is empty.
func (s *stub) GetSignedProposal() (*peer.SignedProposal, error) {
	chdr, err := proto.Marshal(&common.ChannelHeader{
		Type:      int32(common.HeaderType_ENDORSER_TRANSACTION),
		ChannelId: s.channel,
		TxId:      s.txID,
		Timestamp: timestamppb.New(s.ts),
		Extension: mustMarshal(&peer.ChaincodeHeaderExtension{ChaincodeId: &peer.ChaincodeID{Name: s.p.cfg.chaincodeName}}),
	})
	if err != nil {
		return nil, err
	}
	shdr, err := proto.Marshal(&common.SignatureHeader{Creator: s.creator, Nonce: s.nonce})
	if err != nil {
		return nil, err
	}
	hdr, err := proto.Marshal(&common.Header{ChannelHeader: chdr, SignatureHeader: shdr})
	if err != nil {
		return nil, err
	}
	payload, err := proto.Marshal(&peer.ChaincodeProposalPayload{
		Input: mustMarshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
			Type:        peer.ChaincodeSpec_GOLANG,
			ChaincodeId: &peer.ChaincodeID{Name: s.p.cfg.chaincodeName},
			Input:       &peer.ChaincodeInput{Args: s.args},
		}}),
	})
	if err != nil {
		return nil, err
	}
	prop, err := proto.Marshal(&peer.Proposal{Header: hdr, Payload: payload})
	if err != nil {
		return nil, err
	}
	return &peer.SignedProposal{ProposalBytes: prop}, nil
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // only fixed, valid messages are marshalled here
	}
	return b
}

func (s *stub) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("event name can not be empty string")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.event = &store.Event{TxID: s.txID, Name: name, Payload: slices.Clone(payload)}
	return nil
}

// ---- state ----

func (s *stub) GetState(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kv, err := s.r.Get(s.ctx, key)
	if err != nil {
		s.readFailed(err)
		return nil, fmt.Errorf("get state %q: %w", key, err)
	}
	s.recordRead(key, kv.Version)
	return kv.Value, nil
}

func (s *stub) GetMultipleStates(keys ...string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kvs, err := s.r.GetMany(s.ctx, keys)
	if err != nil {
		s.readFailed(err)
		return nil, fmt.Errorf("get multiple states: %w", err)
	}
	if s.reads == nil && !s.readOnly {
		// A batch read announces how many keys the transaction reads at
		// least: size the read set once instead of growing it by rehashes.
		s.reads = make(map[string]store.Version, len(keys))
	}
	out := make([][]byte, len(kvs))
	for i, kv := range kvs {
		if keys[i] == "" {
			continue
		}
		s.recordRead(keys[i], kv.Version)
		out[i] = kv.Value
	}
	return out, nil
}

func (s *stub) PutState(key string, value []byte) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	w := store.Write{Key: key, Value: slices.Clone(value), Delete: len(value) == 0}
	return s.write(w)
}

func (s *stub) DelState(key string) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	return s.write(store.Write{Key: key, Delete: true})
}

func (s *stub) write(w store.Write) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inWriteBatch {
		s.writeBatch.put(w)
		return nil
	}
	return s.applyWrite(w)
}

func (s *stub) applyWrite(w store.Write) error {
	if s.paginatedQuery {
		return fmt.Errorf("txid [%s]: a transaction that ran a paginated query cannot write (paginated queries are for read-only transactions)", s.txID)
	}
	s.wrote = true
	if err := checkKey(w.Key); err != nil {
		return err
	}
	s.writes.put(w)
	return nil
}

func (s *stub) StartWriteBatch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inWriteBatch = true
}

func (s *stub) FinishWriteBatch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := s.writeBatch.sorted()
	s.writeBatch, s.inWriteBatch = writeSet{}, false
	for _, w := range pending {
		if err := s.applyWrite(w); err != nil {
			return err
		}
	}
	return nil
}

// ---- range queries ----

func validateSimpleKeys(keys ...string) error {
	for _, k := range keys {
		if len(k) > 0 && k[0] == compositeKeyNamespace[0] {
			return fmt.Errorf("first character of the key [%s] contains a null character which is not allowed", k)
		}
		if err := checkKey(k); err != nil {
			return err
		}
	}
	return nil
}

func (s *stub) GetStateByRange(startKey, endKey string) (shim.StateQueryIteratorInterface, error) {
	if startKey == "" {
		startKey = emptyKeySubstitute
	}
	if err := validateSimpleKeys(startKey, endKey); err != nil {
		return nil, err
	}
	return s.rangeQuery(startKey, endKey)
}

func (s *stub) GetStateByRangeWithPagination(startKey, endKey string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if startKey == "" {
		startKey = emptyKeySubstitute
	}
	if err := validateSimpleKeys(startKey, endKey); err != nil {
		return nil, nil, err
	}
	return s.pagedQuery(startKey, endKey, pageSize, bookmark)
}

func (s *stub) GetStateByPartialCompositeKey(objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
	start, err := shim.CreateCompositeKey(objectType, keys)
	if err != nil {
		return nil, err
	}
	return s.rangeQuery(start, start+maxRune)
}

func (s *stub) GetStateByPartialCompositeKeyWithPagination(objectType string, keys []string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	start, err := shim.CreateCompositeKey(objectType, keys)
	if err != nil {
		return nil, nil, err
	}
	return s.pagedQuery(start, start+maxRune, pageSize, bookmark)
}

func (s *stub) GetAllStatesCompositeKeyWithPagination(pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return s.pagedQuery(compositeKeyNamespace, compositeKeyNamespace+maxRune, pageSize, bookmark)
}

// rangeQuery runs an unpaginated range query: at most the total query
// limit of records, fetched lazily and recorded for phantom detection.
func (s *stub) rangeQuery(start, end string) (shim.StateQueryIteratorInterface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := &rangeIter{s: s, start: start, end: end, next: start, remaining: s.p.cfg.totalQueryLimit}
	if err := it.fetch(); err != nil {
		return nil, err
	}
	if !s.readOnly {
		s.ranges = append(s.ranges, it)
	}
	return it, nil
}

// pagedQuery runs a paginated range query as the peer does: a query with
// pageSize 0 and no bookmark is an unpaginated one (with empty metadata);
// otherwise it starts at the bookmark if any, returns up to pageSize records
// (capped by the total query limit) and the next key as bookmark.
func (s *stub) pagedQuery(start, end string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if pageSize == 0 && bookmark == "" {
		it, err := s.rangeQuery(start, end)
		if err != nil {
			return nil, nil, err
		}
		return it, &peer.QueryResponseMetadata{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote {
		return nil, nil, fmt.Errorf("txid [%s]: paginated queries are supported only in read-only transactions, and this one wrote", s.txID)
	}
	s.paginatedQuery = true
	if bookmark != "" {
		start = bookmark
	}
	limit := s.p.cfg.totalQueryLimit
	if pageSize > 0 && int(pageSize) < limit {
		limit = int(pageSize)
	}
	kvs, err := s.r.Scan(s.ctx, start, end, limit+1)
	if err != nil {
		return nil, nil, fmt.Errorf("range query: %w", err)
	}
	next := ""
	if len(kvs) > limit {
		next = kvs[limit].Key
		kvs = kvs[:limit]
	}
	it := &rangeIter{s: s, start: start, end: end, buf: kvs, fetched: kvs, exhausted: next == "", closed: false}
	if next != "" {
		it.next = next
	}
	if !s.readOnly {
		s.ranges = append(s.ranges, it)
	}
	return it, &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(kvs)), Bookmark: next}, nil
}

// ---- composite keys ----

func (s *stub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return shim.CreateCompositeKey(objectType, attributes)
}

func (s *stub) SplitCompositeKey(compositeKey string) (string, []string, error) {
	var parts []string
	from := 1
	for i := 1; i < len(compositeKey); i++ {
		if compositeKey[i] == 0 {
			parts = append(parts, compositeKey[from:i])
			from = i + 1
		}
	}
	if len(parts) == 0 {
		return "", nil, fmt.Errorf("%q is not a composite key", compositeKey)
	}
	return parts[0], append([]string{}, parts[1:]...), nil
}

// ---- unsupported in solo mode ----

func (s *stub) InvokeChaincode(chaincodeName string, _ [][]byte, _ string) *peer.Response {
	return &peer.Response{Status: shim.ERROR, Message: unsupported("InvokeChaincode " + chaincodeName).Error()}
}

func (s *stub) SetStateValidationParameter(string, []byte) error {
	return unsupported("state-based endorsement (SetStateValidationParameter)")
}

func (s *stub) GetStateValidationParameter(string) ([]byte, error) {
	return nil, unsupported("state-based endorsement (GetStateValidationParameter)")
}

func (s *stub) GetQueryResult(string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("rich queries (GetQueryResult)")
}

func (s *stub) GetQueryResultWithPagination(string, int32, string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return nil, nil, unsupported("rich queries (GetQueryResultWithPagination)")
}

func (s *stub) GetHistoryForKey(string) (shim.HistoryQueryIteratorInterface, error) {
	return nil, unsupported("key history (GetHistoryForKey)")
}

func (s *stub) GetPrivateData(string, string) ([]byte, error) {
	return nil, unsupported("private data (GetPrivateData)")
}

func (s *stub) GetMultiplePrivateData(string, ...string) ([][]byte, error) {
	return nil, unsupported("private data (GetMultiplePrivateData)")
}

func (s *stub) GetPrivateDataHash(string, string) ([]byte, error) {
	return nil, unsupported("private data (GetPrivateDataHash)")
}

func (s *stub) PutPrivateData(string, string, []byte) error {
	return unsupported("private data (PutPrivateData)")
}

func (s *stub) DelPrivateData(string, string) error {
	return unsupported("private data (DelPrivateData)")
}

func (s *stub) PurgePrivateData(string, string) error {
	return unsupported("private data (PurgePrivateData)")
}

func (s *stub) SetPrivateDataValidationParameter(string, string, []byte) error {
	return unsupported("private data (SetPrivateDataValidationParameter)")
}

func (s *stub) GetPrivateDataValidationParameter(string, string) ([]byte, error) {
	return nil, unsupported("private data (GetPrivateDataValidationParameter)")
}

func (s *stub) GetPrivateDataByRange(string, string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("private data (GetPrivateDataByRange)")
}

func (s *stub) GetPrivateDataByPartialCompositeKey(string, string, []string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("private data (GetPrivateDataByPartialCompositeKey)")
}

func (s *stub) GetPrivateDataQueryResult(string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, unsupported("private data (GetPrivateDataQueryResult)")
}
