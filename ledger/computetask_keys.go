package ledger

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

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

// ctLastAttr returns the last attribute of the composite key k (the task
// key that ends every index key), without splitting the others off.
func ctLastAttr(k string) (string, bool) {
	if len(k) < 3 || k[0] != 0 || k[len(k)-1] != 0 {
		return "", false
	}
	i := strings.LastIndexByte(k[:len(k)-1], 0)
	if i <= 0 {
		return "", false // the object type alone
	}
	return k[i+1 : len(k)-1], true
}

// ctTime renders a timestamp so that lexical order is time order, in
// timeChars characters.
func ctTime(ts *timestamppb.Timestamp) string {
	var buf [timeChars]byte
	return string(appendTime(buf[:0], tsNanos(ts)))
}

// ctStatus is a status as it appears in index keys: its enum number.
// Statuses are only ever matched for equality in keys, never ordered.
func ctStatus(s protos.ComputeTaskStatus) string { return strconv.Itoa(int(s)) }

// ctRecordKey returns the state key of task key's record (key checked).
func ctRecordKey(key string) string { return ctTaskKey(taskObject, key) }

// ctStatusKey returns the state key of task key's status entry (key
// checked).
func ctStatusKey(key string) string { return ctTaskKey(taskStatusObject, key) }

// ctTaskKey returns the composite key (object, compact form of key), built
// in one allocation: GetTask and every task a page lists build two.
func ctTaskKey(object, key string) string {
	var buf [64]byte
	b := append(append(append(buf[:0], 0), object...), 0)
	return string(append(appendKey(b, key), 0))
}

// ctStatusIndexKeys are the index entries that hold the status of task t
// when its status is status.
func ctStatusIndexKeys(_ shim.ChaincodeStubInterface, t *protos.ComputeTask, status protos.ComputeTaskStatus) ([]string, error) {
	key, plan, worker, fn := t.GetKey(), t.GetComputePlanKey(), t.GetWorker(), t.GetFunctionKey()
	for _, a := range [...]string{key, plan, worker, fn} {
		if err := ctCheckAttr(a); err != nil {
			return nil, err
		}
	}
	return ctAppendStatusKeys(nil, keyAttr(key), keyAttr(plan), worker, keyAttr(fn), ctTime(t.GetCreationDate()), status), nil
}

// ctAppendStatusKeys appends the index entries that hold the status of
// the task whose key, plan and function attributes are k, p and f, created
// at ts, when its status is status.
func ctAppendStatusKeys(keys []string, k, p, worker, f, ts string, status protos.ComputeTaskStatus) []string {
	st := ctStatus(status)
	keys = append(keys,
		ctJoin(taskPlanStIndex, p, st, ts, k),
		ctJoin(taskWorkerStIndex, worker, st, ts, k),
	)
	if ctFuncStatusIndexed(status) {
		keys = append(keys, ctJoin(taskFuncStIndex, f, st, ts, k))
	}
	return keys
}

// ctFuncStatusIndexed reports whether the function index by status holds
// the tasks in status: those waiting for their function's build, or
// building.
func ctFuncStatusIndexed(status protos.ComputeTaskStatus) bool {
	return status == protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT || status == protos.ComputeTaskStatus_STATUS_BUILDING
}

// ctDecode decodes the record of task key and applies its status entry,
// if any.
func ctDecode(key string, record, status []byte) (*protos.ComputeTask, error) {
	t := new(protos.ComputeTask)
	if err := proto.Unmarshal(record, t); err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", key)
	}
	if status != nil {
		st, err := ctParseStatus(status)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode status of compute task %s", key)
		}
		t.Status = st
	}
	return t, nil
}
