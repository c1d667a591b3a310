package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Compute tasks are stored under the composite key (t, key) and found
// again through indexes: composite keys whose attributes end with the
// creation time and the task key, so a partial-key scan lists tasks in the
// order the API promises (creation date, then key). The indexes holding the
// status are moved when the status changes; the others never change.
//
// A task's record is written once, at registration, and never changes: a
// status change writes the new status under (ts, key) instead, which
// overrides the record's. A task's events therefore need not copy the
// task: each refers to the record and holds the status the task had (see
// EmitComputeTask). This keeps a status change at a few dozen bytes of
// state instead of two copies of the task.
//
// On Fabric every byte of a key is carried, validated and stored by each
// peer, and a registered task writes six index entries, so keys are
// short: object names of a few letters, a status as its enum number, asset
// keys and times in the sortable form of keyenc.go (22 and 11 characters;
// the worker, an MSP id, is written as it is). The function index by
// status only holds the tasks waiting for their function's build or
// building (the statuses the function's changes look for): a task whose
// function is ready when it is registered, as most are, has no entry there
// and none to move; a query on another status of a function's tasks
// filters the function's index.
const (
	taskObject        = "t"   // task -> its record
	taskAllIndex      = "tt"  // time, task
	taskPlanIndex     = "tp"  // plan, time, task
	taskWorkerIndex   = "tw"  // worker, time, task
	taskFunctionIndex = "tf"  // function, time, task
	taskPlanStIndex   = "tps" // plan, status, time, task
	taskWorkerStIndex = "tws" // worker, status, time, task
	taskFuncStIndex   = "tfs" // function, build status, time, task
	taskChildIndex    = "tc"  // parent, child
	taskOutputIndex   = "to"  // task, output identifier, rank -> asset
	taskStatusObject  = "ts"  // task -> its status, once changed
	ctDefaultPageSize = 50
	ctScanChunk       = 200
)

// ComputeTaskKind is where compute task records live: their stored bytes
// are the ComputeTask message as registered (deterministic encoding). The
// current status may be elsewhere: read tasks with GetComputeTask(s) or
// GetComputeTaskRaw.
var ComputeTaskKind = Kind{Object: taskObject, Noun: "computetask", compact: true}

// GetComputeTask reads one task; OE0002 when absent.
func GetComputeTask(stub shim.ChaincodeStubInterface, key string) (*protos.ComputeTask, error) {
	got, err := GetComputeTasks(stub, []string{key})
	if err != nil {
		return nil, err
	}
	t, ok := got[key]
	if !ok {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", ComputeTaskKind.Noun, key)
	}
	return t, nil
}

// GetComputeTaskRaw returns the deterministic encoding of a task as it is
// now; OE0002 when absent. A task whose status never changed is its record,
// returned as stored; the others are their record with the status field
// rewritten (computetask_codec.go), not decoded. It is for evaluate
// transactions (GetTask): a missing task makes it check the state's layout
// (checkLayout).
func GetComputeTaskRaw(stub shim.ChaincodeStubInterface, key string) ([]byte, error) {
	if err := ctCheckAttr(key); err != nil {
		return nil, err
	}
	vals, err := stub.GetMultipleStates(ctRecordKey(key), ctStatusKey(key))
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read compute task %s", key)
	}
	if vals[0] == nil {
		if err := checkLayout(stub); err != nil {
			return nil, err
		}
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", ComputeTaskKind.Noun, key)
	}
	if vals[1] == nil {
		return vals[0], nil
	}
	v, err := ctViewRecord(vals[0])
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", key)
	}
	st, err := ctCurrentStatus(&v, vals[1])
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "decode status of compute task %s", key)
	}
	return ctAppendTask(make([]byte, 0, ctTaskSize(vals[0], &v, st)), vals[0], &v, st), nil
}

// GetComputeTasks reads several tasks at once. Keys that do not exist are
// absent from the result.
//
// The status entries are read only for the tasks found: a registration
// reads its new keys to refuse duplicates, and on Fabric every key read is
// carried in the transaction and checked by each peer at commit.
func GetComputeTasks(stub shim.ChaincodeStubInterface, keys []string) (map[string]*protos.ComputeTask, error) {
	out := make(map[string]*protos.ComputeTask, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	records, err := computeTaskRecords(stub, keys)
	if err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return out, nil
	}
	var found, foundKeys []string
	for _, k := range keys {
		if _, ok := records[k]; ok {
			found = append(found, ctStatusKey(k))
			foundKeys = append(foundKeys, k)
		}
	}
	statuses, err := stub.GetMultipleStates(found...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read compute task statuses")
	}
	for i, k := range foundKeys {
		t, err := ctDecode(k, records[k], statuses[i])
		if err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, nil
}

// computeTaskRecords reads the records of tasks, as registered (without
// their status entries), by task key; absent tasks are left out.
func computeTaskRecords(stub shim.ChaincodeStubInterface, keys []string) (map[string][]byte, error) {
	sks := make([]string, len(keys))
	for i, k := range keys {
		if err := ctCheckAttr(k); err != nil {
			return nil, err
		}
		sks[i] = ctRecordKey(k)
	}
	vals, err := stub.GetMultipleStates(sks...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read compute tasks")
	}
	records := make(map[string][]byte, len(keys))
	for i, v := range vals {
		if v != nil {
			records[keys[i]] = v
		}
	}
	return records, nil
}

func ctPut(stub shim.ChaincodeStubInterface, key string, value []byte) error {
	if err := stub.PutState(key, value); err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "write state")
	}
	return nil
}

// StoreNewComputeTask is AddComputeTask that also returns the stored
// record, the task's deterministic encoding, so that the caller need not
// encode the task again (for its event or a response). The record must
// not be modified.
func StoreNewComputeTask(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, parents []string) ([]byte, error) {
	key, plan, worker, fn := t.GetKey(), t.GetComputePlanKey(), t.GetWorker(), t.GetFunctionKey()
	for _, a := range [...]string{key, plan, worker, fn} {
		if err := ctCheckAttr(a); err != nil {
			return nil, err
		}
	}
	for _, p := range parents {
		if err := ctCheckAttr(p); err != nil {
			return nil, err
		}
	}
	b, err := Marshal(t)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "encode compute task %s", key)
	}
	if err := ctPut(stub, ctRecordKey(key), b); err != nil {
		return nil, err
	}
	ts, k := ctTime(t.GetCreationDate()), keyAttr(key)
	p, f := keyAttr(plan), keyAttr(fn)
	keys := append(make([]string, 0, 7+len(parents)),
		ctJoin(taskAllIndex, ts, k),
		ctJoin(taskPlanIndex, p, ts, k),
		ctJoin(taskWorkerIndex, worker, ts, k),
		ctJoin(taskFunctionIndex, f, ts, k),
	)
	for _, parent := range parents {
		keys = append(keys, ctJoin(taskChildIndex, keyAttr(parent), k))
	}
	keys = ctAppendStatusKeys(keys, k, p, worker, f, ts, t.GetStatus())
	for _, k := range keys {
		if err := ctPut(stub, k, marker); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// StoreComputeTaskStatus is UpdateComputeTaskStatus that also returns the
// task's deterministic encoding as it is now, for its event. The bytes
// must not be modified.
func StoreComputeTaskStatus(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, old protos.ComputeTaskStatus) ([]byte, error) {
	key := t.GetKey()
	if err := ctCheckAttr(key); err != nil {
		return nil, err
	}
	b, err := Marshal(t)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "encode compute task %s", key)
	}
	if old == t.GetStatus() {
		return b, nil
	}
	if err := ctPut(stub, ctStatusKey(key), []byte(ctStatus(t.GetStatus()))); err != nil {
		return nil, err
	}
	oldKeys, err := ctStatusIndexKeys(stub, t, old)
	if err != nil {
		return nil, err
	}
	for _, k := range oldKeys {
		if err := stub.DelState(k); err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "delete state")
		}
	}
	newKeys, err := ctStatusIndexKeys(stub, t, t.GetStatus())
	if err != nil {
		return nil, err
	}
	for _, k := range newKeys {
		if err := ctPut(stub, k, marker); err != nil {
			return nil, err
		}
	}
	return b, nil
}
