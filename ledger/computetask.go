package ledger

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Compute tasks are stored under the composite key (computetask, key) and
// found again through indexes: composite keys whose attributes end with the
// creation time and the task key, so a partial-key scan lists tasks in the
// order the API promises (creation date, then key). The indexes holding the
// status are moved when the status changes; the others never change.
//
// A task's record is written once, at registration, and never changes: a
// status change writes the new status under (ct~s, key) instead, which
// overrides the record's. A task's events therefore need not copy the
// task: each refers to the record and holds the status the task had (see
// EmitComputeTask). This keeps a status change at a few dozen bytes of
// state instead of two copies of the task.
//
// Index names are short, and a status is its enum number: a registered
// task writes seven index entries and every status change moves three, and
// on Fabric every byte of a key is carried, validated and stored by each
// peer (long names made up a quarter of a task's bytes).
const (
	taskObject        = "computetask"
	taskAllIndex      = "ct~t"     // time, task
	taskPlanIndex     = "ct~p~t"   // plan, time, task
	taskWorkerIndex   = "ct~w~t"   // worker, time, task
	taskFunctionIndex = "ct~f~t"   // function, time, task
	taskPlanStIndex   = "ct~p~s~t" // plan, status, time, task
	taskWorkerStIndex = "ct~w~s~t" // worker, status, time, task
	taskFuncStIndex   = "ct~f~s~t" // function, status, time, task
	taskChildIndex    = "ct~c"     // parent, child
	taskOutputIndex   = "ct~o"     // task, output identifier
	taskStatusObject  = "ct~s"     // task -> its status, once changed
	ctDefaultPageSize = 50
	ctScanChunk       = 200
)

// ComputeTaskKind is where compute task records live: their stored bytes
// are the ComputeTask message as registered (deterministic encoding). The
// current status may be elsewhere: read tasks with GetComputeTask(s) or
// GetComputeTaskRaw.
var ComputeTaskKind = Kind{Object: taskObject, Noun: "computetask"}

// ctKey builds the composite key (object, attrs...) exactly as
// shim.CreateCompositeKey does, without a round trip through the stub: it
// is on the hot path of task registration (about ten keys per task).
func ctKey(_ shim.ChaincodeStubInterface, object string, attrs ...string) (string, error) {
	for _, a := range attrs {
		if err := ctCheckAttr(a); err != nil {
			return "", err
		}
	}
	return ctJoin(object, attrs...), nil
}

// ctCheckAttr refuses what shim.CreateCompositeKey refuses in an
// attribute: invalid UTF-8, U+0000 and U+10FFFF.
func ctCheckAttr(a string) error {
	if plainAttr(a) {
		return nil
	}
	if !utf8.ValidString(a) || strings.IndexByte(a, 0) >= 0 || strings.ContainsRune(a, utf8.MaxRune) {
		return orcerr.New(orcerr.InvalidAsset, "invalid key attribute %q", a)
	}
	return nil
}

// ctJoin builds the composite key (object, attrs...) of checked
// attributes.
func ctJoin(object string, attrs ...string) string { return joinKey(object, attrs...) }

// ctTime renders a timestamp so that lexical order is time order.
func ctTime(ts *timestamppb.Timestamp) string {
	nanos := ts.AsTime().UnixNano()
	if nanos < 0 {
		return fmt.Sprintf("%020d", nanos)
	}
	var buf [20]byte
	return string(appendPadded(buf[:0], nanos, 20))
}

// ComputeTaskStateKey is the state key of the task record.
func ComputeTaskStateKey(stub shim.ChaincodeStubInterface, key string) (string, error) {
	return ctKey(stub, taskObject, key)
}

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
// returned as stored.
func GetComputeTaskRaw(stub shim.ChaincodeStubInterface, key string) ([]byte, error) {
	if err := ctCheckAttr(key); err != nil {
		return nil, err
	}
	vals, err := stub.GetMultipleStates(ctJoin(taskObject, key), ctJoin(taskStatusObject, key))
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read compute task %s", key)
	}
	if vals[0] == nil {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", ComputeTaskKind.Noun, key)
	}
	if vals[1] == nil {
		return vals[0], nil
	}
	t, err := ctDecode(key, vals[0], vals[1])
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "encode compute task %s", key)
	}
	return b, nil
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
			found = append(found, ctJoin(taskStatusObject, k))
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
		sks[i] = ctJoin(taskObject, k)
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

// ctDecode decodes the record of task key and applies its status entry,
// if any.
func ctDecode(key string, record, status []byte) (*protos.ComputeTask, error) {
	t := new(protos.ComputeTask)
	if err := proto.Unmarshal(record, t); err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", key)
	}
	if status != nil {
		n, err := strconv.Atoi(string(status))
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode status of compute task %s", key)
		}
		t.Status = protos.ComputeTaskStatus(n)
	}
	return t, nil
}

// ctStatus is a status as it appears in index keys: its enum number.
// Statuses are only ever matched for equality in keys, never ordered.
func ctStatus(s protos.ComputeTaskStatus) string { return strconv.Itoa(int(s)) }

// ctStatusIndexKeys are the index entries that hold the status of task t
// when its status is status.
func ctStatusIndexKeys(_ shim.ChaincodeStubInterface, t *protos.ComputeTask, status protos.ComputeTaskStatus) ([]string, error) {
	key, plan, worker, fn := t.GetKey(), t.GetComputePlanKey(), t.GetWorker(), t.GetFunctionKey()
	for _, a := range [...]string{key, plan, worker, fn} {
		if err := ctCheckAttr(a); err != nil {
			return nil, err
		}
	}
	return ctStatusKeys(t, ctTime(t.GetCreationDate()), status), nil
}

// ctStatusKeys is ctStatusIndexKeys for a task whose attributes are
// checked, created at ts.
func ctStatusKeys(t *protos.ComputeTask, ts string, status protos.ComputeTaskStatus) []string {
	key, st := t.GetKey(), ctStatus(status)
	return []string{
		ctJoin(taskPlanStIndex, t.GetComputePlanKey(), st, ts, key),
		ctJoin(taskWorkerStIndex, t.GetWorker(), st, ts, key),
		ctJoin(taskFuncStIndex, t.GetFunctionKey(), st, ts, key),
	}
}

func ctPut(stub shim.ChaincodeStubInterface, key string, value []byte) error {
	if err := stub.PutState(key, value); err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "write state")
	}
	return nil
}

// AddComputeTask stores a new task with all its index entries and the
// parent -> child edges. It performs no read.
func AddComputeTask(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, parents []string) error {
	_, err := StoreNewComputeTask(stub, t, parents)
	return err
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
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "encode compute task %s", key)
	}
	if err := ctPut(stub, ctJoin(taskObject, key), b); err != nil {
		return nil, err
	}
	ts := ctTime(t.GetCreationDate())
	keys := append(make([]string, 0, 7+len(parents)),
		ctJoin(taskAllIndex, ts, key),
		ctJoin(taskPlanIndex, plan, ts, key),
		ctJoin(taskWorkerIndex, worker, ts, key),
		ctJoin(taskFunctionIndex, fn, ts, key),
	)
	for _, p := range parents {
		keys = append(keys, ctJoin(taskChildIndex, p, key))
	}
	keys = append(keys, ctStatusKeys(t, ts, t.GetStatus())...)
	for _, k := range keys {
		if err := ctPut(stub, k, marker); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// UpdateComputeTaskStatus records the status of t, which was old before,
// and moves its status index entries. It performs no read. Only the status
// is stored: every other field of a task is fixed at registration.
func UpdateComputeTaskStatus(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, old protos.ComputeTaskStatus) error {
	_, err := StoreComputeTaskStatus(stub, t, old)
	return err
}

// StoreComputeTaskStatus is UpdateComputeTaskStatus that also returns the
// task's deterministic encoding as it is now, for its event. The bytes
// must not be modified.
func StoreComputeTaskStatus(stub shim.ChaincodeStubInterface, t *protos.ComputeTask, old protos.ComputeTaskStatus) ([]byte, error) {
	key := t.GetKey()
	if err := ctCheckAttr(key); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "encode compute task %s", key)
	}
	if old == t.GetStatus() {
		return b, nil
	}
	if err := ctPut(stub, ctJoin(taskStatusObject, key), []byte(ctStatus(t.GetStatus()))); err != nil {
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

// ctScanLast lists, for every composite key under the partial key, its
// last attribute (unpaginated, so usable in update transactions).
func ctScanLast(stub shim.ChaincodeStubInterface, object string, attrs ...string) ([]string, error) {
	it, err := stub.GetStateByPartialCompositeKey(object, attrs)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan %s", object)
	}
	defer it.Close()
	var out []string
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "scan %s", object)
		}
		_, parts, err := stub.SplitCompositeKey(kv.GetKey())
		if err != nil || len(parts) == 0 {
			return nil, orcerr.Wrap(orcerr.Internal, err, "bad index key in %s", object)
		}
		out = append(out, parts[len(parts)-1])
	}
	return out, nil
}

// ComputeTaskChildren returns the keys of the tasks that use an output of
// the given task, in key order.
func ComputeTaskChildren(stub shim.ChaincodeStubInterface, parent string) ([]string, error) {
	return ctScanLast(stub, taskChildIndex, parent)
}

// PlanTaskKeysWithStatus returns the keys of the plan's tasks in status, in
// creation order.
func PlanTaskKeysWithStatus(stub shim.ChaincodeStubInterface, plan string, status protos.ComputeTaskStatus) ([]string, error) {
	return ctScanLast(stub, taskPlanStIndex, plan, ctStatus(status))
}

// FunctionTaskKeysWithStatus returns the keys of the function's tasks in
// status, in creation order.
func FunctionTaskKeysWithStatus(stub shim.ChaincodeStubInterface, function string, status protos.ComputeTaskStatus) ([]string, error) {
	return ctScanLast(stub, taskFuncStIndex, function, ctStatus(status))
}

// PlanHasTaskWithStatus reports whether at least one task of the plan is in
// status. It stops at the first index entry.
func PlanHasTaskWithStatus(stub shim.ChaincodeStubInterface, plan string, status protos.ComputeTaskStatus) (bool, error) {
	it, err := stub.GetStateByPartialCompositeKey(taskPlanStIndex, []string{plan, ctStatus(status)})
	if err != nil {
		return false, orcerr.Wrap(orcerr.Internal, err, "scan plan tasks")
	}
	defer it.Close()
	return it.HasNext(), nil
}

// CountPlanTasks counts the plan's tasks per status.
func CountPlanTasks(stub shim.ChaincodeStubInterface, plan string) (map[protos.ComputeTaskStatus]int, error) {
	counts := make(map[protos.ComputeTaskStatus]int)
	for v := range int32(len(protos.ComputeTaskStatus_name)) {
		s := protos.ComputeTaskStatus(v)
		keys, err := PlanTaskKeysWithStatus(stub, plan, s)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			counts[s] = len(keys)
		}
	}
	return counts, nil
}

// ctTaskQueryIndex picks the index serving a filter best; fields it does not
// cover are checked on each task.
func ctTaskQueryIndex(f *protos.TaskQueryFilter) (object string, attrs []string) {
	st := f.GetStatus() != protos.ComputeTaskStatus_STATUS_UNKNOWN
	switch {
	case f.GetComputePlanKey() != "" && st:
		return taskPlanStIndex, []string{f.GetComputePlanKey(), ctStatus(f.GetStatus())}
	case f.GetComputePlanKey() != "":
		return taskPlanIndex, []string{f.GetComputePlanKey()}
	case f.GetWorker() != "" && st:
		return taskWorkerStIndex, []string{f.GetWorker(), ctStatus(f.GetStatus())}
	case f.GetFunctionKey() != "" && st:
		return taskFuncStIndex, []string{f.GetFunctionKey(), ctStatus(f.GetStatus())}
	case f.GetWorker() != "":
		return taskWorkerIndex, []string{f.GetWorker()}
	case f.GetFunctionKey() != "":
		return taskFunctionIndex, []string{f.GetFunctionKey()}
	}
	// A status alone is filtered on each task of the creation-order index.
	return taskAllIndex, nil
}

func ctTaskMatches(t *protos.ComputeTask, f *protos.TaskQueryFilter) bool {
	return (f.GetWorker() == "" || t.GetWorker() == f.GetWorker()) &&
		(f.GetStatus() == protos.ComputeTaskStatus_STATUS_UNKNOWN || t.GetStatus() == f.GetStatus()) &&
		(f.GetComputePlanKey() == "" || t.GetComputePlanKey() == f.GetComputePlanKey()) &&
		(f.GetFunctionKey() == "" || t.GetFunctionKey() == f.GetFunctionKey())
}

// ctToken turns an index key into an opaque page token.
func ctToken(indexKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(indexKey))
}

// ctDecodeToken checks that a token designates a key under the scanned
// partial key.
func ctDecodeToken(stub shim.ChaincodeStubInterface, token, object string, attrs []string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", orcerr.New(orcerr.BadRequest, "invalid page token %q", token)
	}
	prefix, err := ctKey(stub, object, attrs...)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(string(b), prefix) {
		return "", orcerr.New(orcerr.BadRequest, "invalid page token %q", token)
	}
	return string(b), nil
}

// ctEntry is one index entry met by a page walk: the last attribute of
// its key (the asset key) and its value.
type ctEntry struct {
	key   string
	value []byte
}

// ctPageWalk walks an index from a page token, handing entries to match,
// which says which ones belong to the page. It stops once size entries
// matched and returns the token of the next matching entry, if any. For
// evaluations only (paginated scans).
func ctPageWalk(stub shim.ChaincodeStubInterface, object string, attrs []string, token string, size int,
	match func(entries []ctEntry) ([]bool, error)) (next string, err error) {
	bookmark, err := ctDecodeToken(stub, token, object, attrs)
	if err != nil {
		return "", err
	}
	found := 0
	for {
		// A page and the entry after it, in one scan when the index serves
		// the whole filter; more scans when match drops entries.
		chunk := int32(min(ctScanChunk, size-found+1))
		it, meta, err := stub.GetStateByPartialCompositeKeyWithPagination(object, attrs, chunk, bookmark)
		if err != nil {
			return "", orcerr.Wrap(orcerr.Internal, err, "scan %s", object)
		}
		var idxKeys []string
		var entries []ctEntry
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				it.Close()
				return "", orcerr.Wrap(orcerr.Internal, err, "scan %s", object)
			}
			_, parts, err := stub.SplitCompositeKey(kv.GetKey())
			if err != nil || len(parts) == 0 {
				it.Close()
				return "", orcerr.Wrap(orcerr.Internal, err, "bad index key in %s", object)
			}
			idxKeys = append(idxKeys, kv.GetKey())
			entries = append(entries, ctEntry{key: parts[len(parts)-1], value: kv.GetValue()})
		}
		it.Close()
		if len(entries) == 0 {
			return "", nil
		}
		// Offer the entries one page-worth at a time so match does not do
		// useless work past the end of the page.
		for start := 0; start < len(entries); {
			end := min(len(entries), start+size-found+1)
			ok, err := match(entries[start:end])
			if err != nil {
				return "", err
			}
			for i, m := range ok {
				if !m {
					continue
				}
				if found == size {
					return ctToken(idxKeys[start+i]), nil
				}
				found++
			}
			start = end
		}
		if meta == nil || meta.GetBookmark() == "" || len(entries) < int(chunk) {
			return "", nil
		}
		bookmark = meta.GetBookmark()
	}
}

func ctEntryKeys(entries []ctEntry) []string {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.key
	}
	return keys
}

// QueryComputeTasks lists the tasks matching filter, a page at a time.
func QueryComputeTasks(stub shim.ChaincodeStubInterface, f *protos.TaskQueryFilter, token string, size uint32) ([]*protos.ComputeTask, string, error) {
	n := int(size)
	if n == 0 {
		n = ctDefaultPageSize
	}
	object, attrs := ctTaskQueryIndex(f)
	var tasks []*protos.ComputeTask
	next, err := ctPageWalk(stub, object, attrs, token, n, func(entries []ctEntry) ([]bool, error) {
		keys := ctEntryKeys(entries)
		got, err := GetComputeTasks(stub, keys)
		if err != nil {
			return nil, err
		}
		ok := make([]bool, len(keys))
		for i, k := range keys {
			t := got[k]
			if t == nil || !ctTaskMatches(t, f) {
				continue
			}
			ok[i] = true
			if len(tasks) < n {
				tasks = append(tasks, t)
			}
		}
		return ok, nil
	})
	if err != nil {
		return nil, "", err
	}
	return tasks, next, nil
}

// AddComputeTaskOutputAsset records that an asset fills a task output, at
// position pos among the assets of that output.
func AddComputeTaskOutputAsset(stub shim.ChaincodeStubInterface, a *protos.ComputeTaskOutputAsset, pos int) error {
	k, err := ctKey(stub, taskOutputIndex, a.GetComputeTaskKey(), a.GetComputeTaskOutputIdentifier(), fmt.Sprintf("%06d", pos))
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode output asset")
	}
	return ctPut(stub, k, b)
}

// ComputeTaskOutputAssets lists the assets registered for a task output,
// in registration order; with an empty identifier, those of every output
// (by identifier, then registration order).
func ComputeTaskOutputAssets(stub shim.ChaincodeStubInterface, task, identifier string) ([]*protos.ComputeTaskOutputAsset, error) {
	attrs := []string{task}
	if identifier != "" {
		attrs = append(attrs, identifier)
	}
	it, err := stub.GetStateByPartialCompositeKey(taskOutputIndex, attrs)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan task outputs")
	}
	defer it.Close()
	var out []*protos.ComputeTaskOutputAsset
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "scan task outputs")
		}
		a := new(protos.ComputeTaskOutputAsset)
		if err := proto.Unmarshal(kv.GetValue(), a); err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode output asset")
		}
		out = append(out, a)
	}
	return out, nil
}
