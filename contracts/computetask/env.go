package computetask

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// txEnv is the Env of a contract transaction: the ledger view of the
// transaction (which sees its own writes, buffers them and the events, and
// is flushed after the contract function succeeds).
type txEnv struct {
	l   *ledger.Tx
	now *timestamppb.Timestamp
}

// NewEnv returns the Env of the transaction l, as used by the contracts;
// other contracts (function, failure report) use it to run task rules in
// their own transactions.
func NewEnv(l *ledger.Tx) (Env, error) {
	now, err := l.Now()
	if err != nil {
		return nil, err
	}
	return &txEnv{l: l, now: now}, nil
}

// openEnv returns the Env of the transaction l and its caller.
func openEnv(l *ledger.Tx) (Env, string, error) {
	caller, err := l.Caller()
	if err != nil {
		return nil, "", err
	}
	env, err := NewEnv(l)
	if err != nil {
		return nil, "", err
	}
	return env, caller, nil
}

// Stub returns the ledger view, which is the transaction's stub.
func (e *txEnv) Stub() shim.ChaincodeStubInterface { return e.l }

// Emit queues an event in the ledger view.
func (e *txEnv) Emit(ev *protos.Event) error { return e.l.Emit(ev) }

// EmitComputeTask queues an event about a stored task, already encoded.
func (e *txEnv) EmitComputeTask(ev *protos.Event, task []byte) error {
	return e.l.EmitComputeTask(ev, task)
}

// Now returns the transaction time.
func (e *txEnv) Now() *timestamppb.Timestamp { return timestamppb.New(e.now.AsTime()) }

// Function reads a function, which may be shared with other transactions
// (ledger.SharedFunction): the rules only read functions.
func (e *txEnv) Function(key string) (*protos.Function, error) {
	return ledger.SharedFunction(e.l, key)
}

// DataManager reads a data manager.
func (e *txEnv) DataManager(key string) (*protos.DataManager, error) {
	return ledger.Get[protos.DataManager](e.l, ledger.DataManagerKind, key)
}

// DataSample reads a data sample.
func (e *txEnv) DataSample(key string) (*protos.DataSample, error) {
	return ledger.Get[protos.DataSample](e.l, ledger.DataSampleKind, key)
}

// DataSampleHasManager reports whether a data sample belongs to a data
// manager, decoding only the sample's data manager keys.
func (e *txEnv) DataSampleHasManager(key, dm string) (bool, error) {
	return ledger.DataSampleHasManager(e.l, key, dm)
}

// PreloadFunctions reads functions in one batch into the transaction's
// cache; invalid keys are skipped (Function reports them).
func (e *txEnv) PreloadFunctions(keys []string) error {
	return ledger.Preload(e.l, ledger.FunctionKind, keys)
}

// Reserve sizes the ledger view's key cache ahead (ledger.Tx.Grow).
func (e *txEnv) Reserve(n int) { e.l.Grow(n) }

// DataSampleRecords reads the stored records of data samples in one batch
// (nil for unknown ones), for DataSampleRecordHasManager.
func (e *txEnv) DataSampleRecords(keys []string) ([][]byte, error) {
	return ledger.DataSampleRecords(e.l, keys)
}

// OrganizationExists reports whether id is a registered organization.
func (e *txEnv) OrganizationExists(id string) (bool, error) {
	return ledger.Exists(e.l, ledger.OrganizationKind, id)
}

// FunctionUsedInPlan indexes fn under plan for QueryFunctions.
func (e *txEnv) FunctionUsedInPlan(plan string, fn *protos.Function) error {
	return ledger.IndexFunctionInPlan(e.l, plan, fn)
}

// PropagateFunctionStatus updates, in the transaction l, the tasks of a
// function whose status just changed to status (see
// Session.PropagateFunctionStatus). The function contract calls it.
func PropagateFunctionStatus(l *ledger.Tx, functionKey string, status protos.FunctionStatus, reason string) error {
	env, err := NewEnv(l)
	if err != nil {
		return err
	}
	return NewSession(env).PropagateFunctionStatus(functionKey, status, reason)
}

// FailFromReport fails, in the transaction l, a task whose worker
// registered a failure report (see Session.FailFromReport). The failure
// report contract calls it.
func FailFromReport(l *ledger.Tx, taskKey, requester string) error {
	env, err := NewEnv(l)
	if err != nil {
		return err
	}
	return NewSession(env).FailFromReport(taskKey, requester)
}
