package chaincodetest

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// EndorseTwice wraps a chaincode so that every invocation runs twice on the
// same stub, as two endorsing peers would run it, and fails (status 500,
// message starting "nondeterministic") when the two runs differ in their
// response, their writes or their chaincode event. The first run's writes
// and event are recorded, not applied; the second run sees exactly the
// state the first one read (its reads are replayed), so transactions
// committed concurrently in between cannot make the runs differ.
func EndorseTwice(cc shim.Chaincode) shim.Chaincode { return &twice{cc: cc} }

type twice struct{ cc shim.Chaincode }

func (t *twice) Init(stub shim.ChaincodeStubInterface) *peer.Response { return t.cc.Init(stub) }

func (t *twice) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	snap := &snapshot{state: map[string][]byte{}, scans: map[string]scan{}}
	first := &recorder{ChaincodeStubInterface: stub, snap: snap}
	r1 := t.cc.Invoke(first)
	second := &recorder{ChaincodeStubInterface: stub, snap: snap, replay: true}
	r2 := t.cc.Invoke(second)
	switch {
	case r1.GetStatus() != r2.GetStatus() || r1.GetMessage() != r2.GetMessage() || !bytes.Equal(r1.GetPayload(), r2.GetPayload()):
		return shim.Error(fmt.Sprintf("nondeterministic response: %q / %q", r1.GetMessage(), r2.GetMessage()))
	case !slices.EqualFunc(first.log, second.log, func(a, b op) bool { return a.kind == b.kind && a.key == b.key && bytes.Equal(a.value, b.value) }):
		return shim.Error("nondeterministic writes or event")
	}
	for _, o := range second.log {
		var err error
		switch o.kind {
		case "put":
			err = stub.PutState(o.key, o.value)
		case "del":
			err = stub.DelState(o.key)
		case "event":
			err = stub.SetEvent(o.key, o.value)
		case "start":
			stub.StartWriteBatch()
		case "finish":
			err = stub.FinishWriteBatch()
		}
		if err != nil {
			return shim.Error(err.Error())
		}
	}
	return r2
}

type op struct {
	kind, key string
	value     []byte
}

// recorder records the writes and event of one run instead of applying
// them; it records the reads of the first run in snap and replays them in
// the second.
type recorder struct {
	shim.ChaincodeStubInterface
	log    []op
	snap   *snapshot
	replay bool
}

// snapshot is what the first run read.
type snapshot struct {
	state map[string][]byte
	scans map[string]scan
}

type scan struct {
	kvs  []*queryresult.KV
	meta *peer.QueryResponseMetadata
}

func (r *recorder) GetState(k string) ([]byte, error) {
	if v, ok := r.snap.state[k]; ok && r.replay {
		return v, nil
	}
	v, err := r.ChaincodeStubInterface.GetState(k)
	if err == nil && !r.replay {
		r.snap.state[k] = v
	}
	return v, err
}

func (r *recorder) GetMultipleStates(keys ...string) ([][]byte, error) {
	if r.replay {
		out := make([][]byte, len(keys))
		for i, k := range keys {
			v, ok := r.snap.state[k]
			if !ok {
				return r.ChaincodeStubInterface.GetMultipleStates(keys...)
			}
			out[i] = v
		}
		return out, nil
	}
	vals, err := r.ChaincodeStubInterface.GetMultipleStates(keys...)
	if err == nil {
		for i, k := range keys {
			if i < len(vals) {
				r.snap.state[k] = vals[i]
			}
		}
	}
	return vals, err
}

// scanned records or replays one scan, identified by id.
func (r *recorder) scanned(id string, run func() (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error)) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if sc, ok := r.snap.scans[id]; ok && r.replay {
		return &kvIter{kvs: sc.kvs}, sc.meta, nil
	}
	it, meta, err := run()
	if err != nil || r.replay {
		return it, meta, err
	}
	defer it.Close()
	var kvs []*queryresult.KV
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, nil, err
		}
		kvs = append(kvs, kv)
	}
	r.snap.scans[id] = scan{kvs: kvs, meta: meta}
	return &kvIter{kvs: kvs}, meta, nil
}

func noMeta(it shim.StateQueryIteratorInterface, err error) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return it, nil, err
}

func (r *recorder) GetStateByRange(start, end string) (shim.StateQueryIteratorInterface, error) {
	it, _, err := r.scanned(fmt.Sprintf("range %q %q", start, end), func() (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		return noMeta(r.ChaincodeStubInterface.GetStateByRange(start, end))
	})
	return it, err
}

func (r *recorder) GetStateByPartialCompositeKey(obj string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	it, _, err := r.scanned(fmt.Sprintf("partial %q %q", obj, attrs), func() (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		return noMeta(r.ChaincodeStubInterface.GetStateByPartialCompositeKey(obj, attrs))
	})
	return it, err
}

func (r *recorder) GetStateByRangeWithPagination(start, end string, size int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return r.scanned(fmt.Sprintf("range page %q %q %d %q", start, end, size, bookmark), func() (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		return r.ChaincodeStubInterface.GetStateByRangeWithPagination(start, end, size, bookmark)
	})
}

func (r *recorder) GetStateByPartialCompositeKeyWithPagination(obj string, attrs []string, size int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return r.scanned(fmt.Sprintf("partial page %q %q %d %q", obj, attrs, size, bookmark), func() (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
		return r.ChaincodeStubInterface.GetStateByPartialCompositeKeyWithPagination(obj, attrs, size, bookmark)
	})
}

// kvIter iterates over recorded records.
type kvIter struct {
	kvs []*queryresult.KV
	pos int
}

func (it *kvIter) HasNext() bool { return it.pos < len(it.kvs) }

func (it *kvIter) Next() (*queryresult.KV, error) {
	if it.pos >= len(it.kvs) {
		return nil, fmt.Errorf("no more records")
	}
	it.pos++
	return it.kvs[it.pos-1], nil
}

func (it *kvIter) Close() error { return nil }

func (r *recorder) PutState(k string, v []byte) error {
	r.log = append(r.log, op{"put", k, bytes.Clone(v)})
	return nil
}

func (r *recorder) DelState(k string) error {
	r.log = append(r.log, op{kind: "del", key: k})
	return nil
}

func (r *recorder) SetEvent(name string, payload []byte) error {
	r.log = append(r.log, op{"event", name, bytes.Clone(payload)})
	return nil
}

func (r *recorder) StartWriteBatch() { r.log = append(r.log, op{kind: "start"}) }

func (r *recorder) FinishWriteBatch() error {
	r.log = append(r.log, op{kind: "finish"})
	return nil
}
