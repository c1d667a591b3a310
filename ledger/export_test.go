package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/protos"
)

// The exported names below exist for the external tests only: the ledger
// keeps its key layouts, indexes and pagination to itself.

var IndexKey = indexKey
var EncodeToken = encodeToken
var SortTime = sortTime
var EventID = eventID

const DefaultPageSize = defaultPageSize

var ErrStop = errStop

type Entry = scanEntry
type Pager = pager

func (l *Tx) PageRange(start, end string, p Pager) (string, error) { return l.pageRange(start, end, p) }
func (l *Tx) PutIndexValue(index string, value []byte, attrs ...string) error {
	return l.putIndexValue(index, value, attrs...)
}
func (l *Tx) ScanIndex(index string, prefix []string, fn func(attrs []string, value []byte) error) error {
	return l.scanIndex(index, prefix, fn)
}
func (l *Tx) DelIndex(index string, attrs ...string) error { return l.delIndex(index, attrs...) }
func (l *Tx) IndexLast(index string, prefix ...string) ([]string, error) {
	return l.indexLast(index, prefix...)
}
func (l *Tx) MoveIndex(index string, from, to []string) error { return l.moveIndex(index, from, to) }
func (l *Tx) AddCount(delta int64, name string, attrs ...string) (int64, error) {
	return l.addCount(delta, name, attrs...)
}
func (l *Tx) Count(name string, attrs ...string) (int64, error) { return l.count(name, attrs...) }
func (l *Tx) PageIndex(index string, prefix []string, p Pager) (string, error) {
	return l.pageIndex(index, prefix, p)
}
func (l *Tx) PutIndex(index string, attrs ...string) error { return l.putIndex(index, attrs...) }

// Test-only helpers: production code writes and reads through the paths
// these shortcut or check.

// AddComputeTask stores a new task with all its index entries and the
// parent -> child edges. It performs no read.
func AddComputeTask(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, parents []string) error {
	_, err := StoreNewComputeTask(stub, t, parents)
	return err
}

// UpdateComputeTaskStatus records the status of t, which was old before,
// and moves its status index entries. It performs no read. Only the status
// is stored: every other field of a task is fixed at registration.
func UpdateComputeTaskStatus(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, old protos.ComputeTaskStatus) error {
	_, err := StoreComputeTaskStatus(stub, t, old)
	return err
}

// ComputeTaskStateKey is the state key of the task record.
func ComputeTaskStateKey(stub shim.ChaincodeStubInterface, key string) (string, error) {
	if err := ctCheckAttr(key); err != nil {
		return "", err
	}
	return ctRecordKey(key), nil
}

// AddDataSample stores a new data sample and indexes it.
func AddDataSample(l *Tx, ds *protos.DataSample) error {
	_, err := StoreNewDataSample(l, ds)
	return err
}

// GetDataSamples reads data samples in one batch, in the order of keys;
// OE0002 naming the first unknown key.
func GetDataSamples(l *Tx, keys []string) ([]*protos.DataSample, error) {
	return GetAll[protos.DataSample](l, DataSampleKind, keys)
}

// EmitAsset is Emit for an event about one asset: kind, asset kind, asset
// key and the asset itself (set into the event's oneof by set, e.g.
// func(e *protos.Event) { e.Asset = &protos.Event_Function{Function: f} }).
func (l *Tx) EmitAsset(kind protos.EventKind, assetKind protos.AssetKind, assetKey string, set func(*protos.Event)) error {
	ev := &protos.Event{EventKind: kind, AssetKind: assetKind, AssetKey: assetKey}
	if set != nil {
		set(ev)
	}
	return l.Emit(ev)
}

// GetFailureReport reads the failure report of asset key; OE0002 when
// there is none.
func GetFailureReport(l *Tx, assetKey string) (*protos.FailureReport, error) {
	return Get[protos.FailureReport](l, FailureReportKind, assetKey)
}

// GetOrganization reads organization id; OE0002 when unknown.
func GetOrganization(l *Tx, id string) (*protos.Organization, error) {
	return Get[protos.Organization](l, OrganizationKind, id)
}

// Delete removes the asset of kind k with the given key.
func Delete(l *Tx, k Kind, key string) error {
	sk, err := k.Key(key)
	if err != nil {
		return err
	}
	return l.DelState(sk)
}
