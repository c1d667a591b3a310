// Package solotest runs a real contractapi chaincode through solo on a
// given store: the end-to-end conformance suite of the stub over a
// store.Store. Store implementations call Run from their tests so every
// store gives the same results:
//
//	func TestChaincode(t *testing.T) {
//		solotest.Run(t, func(t *testing.T) store.Opener { return memstore.Opener() })
//	}
//
// It also runs any chaincode for that chaincode's own tests: Start puts it
// on a memory store and returns a Peer called by MSP id and arguments,
// whose methods use only standard and Fabric types, so that a harness
// can declare them as its own interface without importing solo (as
// contracts/chaincode/chaincodetest does).
package solotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Contract is the test contract: plain state access, a composite-key index,
// range and paginated queries, counters and events.
type Contract struct {
	contractapi.Contract
}

// Page is the result of a paginated query.
type Page struct {
	Keys     []string `json:"keys"`
	Bookmark string   `json:"bookmark"`
	Count    int32    `json:"count"`
}

// TxInfo is what the stub reports about the transaction.
type TxInfo struct {
	TxID      string `json:"txid"`
	Channel   string `json:"channel"`
	Seconds   int64  `json:"seconds"`
	MSPID     string `json:"mspid"`
	ClientID  string `json:"clientid"`
	Transient string `json:"transient"`
}

// NewChaincode returns the test chaincode with Contract named "test".
func NewChaincode() (*contractapi.ContractChaincode, error) {
	return contractapi.NewChaincode(&Contract{Contract: contractapi.Contract{Name: "test"}})
}

// Put stores value under key.
func (c *Contract) Put(ctx contractapi.TransactionContextInterface, key, value string) error {
	return ctx.GetStub().PutState(key, []byte(value))
}

// Get returns key's value ("" when absent).
func (c *Contract) Get(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	v, err := ctx.GetStub().GetState(key)
	return string(v), err
}

// GetMany returns the values of keys, "" for absent ones.
func (c *Contract) GetMany(ctx contractapi.TransactionContextInterface, keys []string) ([]string, error) {
	vs, err := ctx.GetStub().GetMultipleStates(keys...)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out, nil
}

// PutN writes n keys "<prefix>/<i>" (value prefix) and sets the event
// ("putn", prefix): a transaction that must commit all or nothing.
func (c *Contract) PutN(ctx contractapi.TransactionContextInterface, prefix string, n int) error {
	stub := ctx.GetStub()
	for i := range n {
		if err := stub.PutState(fmt.Sprintf("%s/%03d", prefix, i), []byte(prefix)); err != nil {
			return err
		}
	}
	return stub.SetEvent("putn", []byte(prefix))
}

// Del deletes key.
func (c *Contract) Del(ctx contractapi.TransactionContextInterface, key string) error {
	return ctx.GetStub().DelState(key)
}

// PutOwned stores an asset id with an owner and indexes it under the
// composite key owner~id (object type "owner").
func (c *Contract) PutOwned(ctx contractapi.TransactionContextInterface, id, owner, value string) error {
	stub := ctx.GetStub()
	ck, err := stub.CreateCompositeKey("owner", []string{owner, id})
	if err != nil {
		return err
	}
	if err := stub.PutState(ck, []byte{0}); err != nil {
		return err
	}
	return stub.PutState(id, []byte(value))
}

// ByOwner returns the ids owned by owner, through the composite-key index.
func (c *Contract) ByOwner(ctx contractapi.TransactionContextInterface, owner string) ([]string, error) {
	stub := ctx.GetStub()
	it, err := stub.GetStateByPartialCompositeKey("owner", []string{owner})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	ids := []string{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, err
		}
		typ, attrs, err := stub.SplitCompositeKey(kv.Key)
		if err != nil {
			return nil, err
		}
		if typ != "owner" || len(attrs) != 2 || attrs[0] != owner {
			return nil, fmt.Errorf("bad composite key %q", kv.Key)
		}
		ids = append(ids, attrs[1])
	}
	return ids, nil
}

// Range returns the keys in [start, end) (GetStateByRange).
func (c *Contract) Range(ctx contractapi.TransactionContextInterface, start, end string) ([]string, error) {
	it, err := ctx.GetStub().GetStateByRange(start, end)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	keys := []string{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, err
		}
		keys = append(keys, kv.Key)
	}
	return keys, nil
}

// RangePage is GetStateByRangeWithPagination.
func (c *Contract) RangePage(ctx contractapi.TransactionContextInterface, start, end string, pageSize int32, bookmark string) (*Page, error) {
	it, md, err := ctx.GetStub().GetStateByRangeWithPagination(start, end, pageSize, bookmark)
	if err != nil {
		return nil, err
	}
	return drainPage(it, md.GetBookmark(), md.GetFetchedRecordsCount())
}

// OwnerPage is GetStateByPartialCompositeKeyWithPagination on the owner
// index; it returns the composite keys' id attributes.
func (c *Contract) OwnerPage(ctx contractapi.TransactionContextInterface, owner string, pageSize int32, bookmark string) (*Page, error) {
	attrs := []string{}
	if owner != "" {
		attrs = append(attrs, owner)
	}
	it, md, err := ctx.GetStub().GetStateByPartialCompositeKeyWithPagination("owner", attrs, pageSize, bookmark)
	if err != nil {
		return nil, err
	}
	return drainPage(it, md.GetBookmark(), md.GetFetchedRecordsCount())
}

func drainPage(it shim.StateQueryIteratorInterface, bookmark string, count int32) (*Page, error) {
	defer it.Close()
	p := &Page{Keys: []string{}, Bookmark: bookmark, Count: count}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, err
		}
		p.Keys = append(p.Keys, kv.Key)
	}
	return p, nil
}

// Incr adds 1 to the integer counter under key and returns the new value
// (a read-modify-write: concurrent increments conflict).
func (c *Contract) Incr(ctx contractapi.TransactionContextInterface, key string) (int, error) {
	stub := ctx.GetStub()
	v, err := stub.GetState(key)
	if err != nil {
		return 0, err
	}
	n := 0
	if v != nil {
		if n, err = strconv.Atoi(string(v)); err != nil {
			return 0, err
		}
	}
	n++
	return n, stub.PutState(key, []byte(strconv.Itoa(n)))
}

// Transfer moves amount from one counter to another (both read and written).
func (c *Contract) Transfer(ctx contractapi.TransactionContextInterface, from, to string, amount int) error {
	stub := ctx.GetStub()
	vals, err := stub.GetMultipleStates(from, to)
	if err != nil {
		return err
	}
	var a, b int
	if vals[0] != nil {
		a, _ = strconv.Atoi(string(vals[0]))
	}
	if vals[1] != nil {
		b, _ = strconv.Atoi(string(vals[1]))
	}
	if err := stub.PutState(from, []byte(strconv.Itoa(a-amount))); err != nil {
		return err
	}
	return stub.PutState(to, []byte(strconv.Itoa(b+amount)))
}

// CountRange counts the keys in [start, end) and stores the count under
// key: a range read followed by a write (phantom detection).
func (c *Contract) CountRange(ctx contractapi.TransactionContextInterface, start, end, key string) (int, error) {
	keys, err := c.Range(ctx, start, end)
	if err != nil {
		return 0, err
	}
	return len(keys), ctx.GetStub().PutState(key, []byte(strconv.Itoa(len(keys))))
}

// Emit sets two events; the second (name, payload) is the one that counts.
func (c *Contract) Emit(ctx contractapi.TransactionContextInterface, name, payload string) error {
	if err := ctx.GetStub().SetEvent("overwritten", []byte("x")); err != nil {
		return err
	}
	if err := ctx.GetStub().PutState("emitted:"+name, []byte(payload)); err != nil {
		return err
	}
	return ctx.GetStub().SetEvent(name, []byte(payload))
}

// PutAndGet writes key then reads it back in the same transaction; it
// returns what the read saw (the committed value, not the write).
func (c *Contract) PutAndGet(ctx contractapi.TransactionContextInterface, key, value string) (string, error) {
	if err := ctx.GetStub().PutState(key, []byte(value)); err != nil {
		return "", err
	}
	v, err := ctx.GetStub().GetState(key)
	return string(v), err
}

// PutThenPage writes then runs a paginated query (Fabric refuses).
func (c *Contract) PutThenPage(ctx contractapi.TransactionContextInterface) error {
	if err := ctx.GetStub().PutState("ptp", []byte("x")); err != nil {
		return err
	}
	_, _, err := ctx.GetStub().GetStateByRangeWithPagination("", "", 10, "")
	return err
}

// PageThenPut runs a paginated query then writes (Fabric refuses).
func (c *Contract) PageThenPut(ctx contractapi.TransactionContextInterface) error {
	if _, _, err := ctx.GetStub().GetStateByRangeWithPagination("", "", 10, ""); err != nil {
		return err
	}
	return ctx.GetStub().PutState("ptp", []byte("x"))
}

// PutInvalid tries to write under the key "\x00bad" through
// GetStateByRange's simple-key rule and returns the error text.
func (c *Contract) RangeComposite(ctx contractapi.TransactionContextInterface) error {
	_, err := ctx.GetStub().GetStateByRange("\x00a", "")
	return err
}

// Fail returns an error.
func (c *Contract) Fail(ctx contractapi.TransactionContextInterface, msg string) error {
	_ = ctx.GetStub().PutState("failed", []byte(msg))
	return errors.New(msg)
}

// Info returns what the stub reports about the transaction and its creator.
func (c *Contract) Info(ctx contractapi.TransactionContextInterface) (*TxInfo, error) {
	stub := ctx.GetStub()
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return nil, err
	}
	mspID, err := ctx.GetClientIdentity().GetMSPID()
	if err != nil {
		return nil, err
	}
	id, err := ctx.GetClientIdentity().GetID()
	if err != nil {
		return nil, err
	}
	tr, err := stub.GetTransient()
	if err != nil {
		return nil, err
	}
	return &TxInfo{TxID: stub.GetTxID(), Channel: stub.GetChannelID(), Seconds: ts.GetSeconds(), MSPID: mspID, ClientID: id, Transient: string(tr["secret"])}, nil
}

// Unsupported calls a method solo does not support and returns its error.
func (c *Contract) Unsupported(ctx contractapi.TransactionContextInterface) error {
	_, err := ctx.GetStub().GetQueryResult(`{"selector":{}}`)
	return err
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
