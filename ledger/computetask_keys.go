package ledger

import (
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

// ctTime renders a timestamp so that lexical order is time order.
func ctTime(ts *timestamppb.Timestamp) string {
	nanos := ts.AsTime().UnixNano()
	if nanos < 0 {
		return fmt.Sprintf("%020d", nanos)
	}
	var buf [20]byte
	return string(appendPadded(buf[:0], nanos, 20))
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
