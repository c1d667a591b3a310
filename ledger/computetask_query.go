package ledger

import (
	"encoding/base64"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// ctScanTasks lists, for every task index entry under the partial key, its
// task (unpaginated, so usable in update transactions).
func ctScanTasks(stub shim.ChaincodeStubInterface, object string, attrs ...string) ([]string, error) {
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
		last, ok := ctLastAttr(kv.GetKey())
		if !ok {
			return nil, orcerr.New(orcerr.Internal, "bad index key %q in %s", kv.GetKey(), object)
		}
		k, err := parseKey(last)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "bad index key %q in %s", kv.GetKey(), object)
		}
		out = append(out, k)
	}
	return out, nil
}

// ComputeTaskChildren returns the keys of the tasks that use an output of
// the given task, in key order.
func ComputeTaskChildren(stub shim.ChaincodeStubInterface, parent string) ([]string, error) {
	return ctScanTasks(stub, taskChildIndex, keyAttr(parent))
}

// PlanTaskKeysWithStatus returns the keys of the plan's tasks in status, in
// creation order.
func PlanTaskKeysWithStatus(stub shim.ChaincodeStubInterface, plan string, status protos.ComputeTaskStatus) ([]string, error) {
	return ctScanTasks(stub, taskPlanStIndex, keyAttr(plan), ctStatus(status))
}

// FunctionTaskKeysWithStatus returns the keys of the function's tasks in
// status, in creation order. It reads an index of them for the statuses of
// a build (waiting for it, building), else the function's tasks.
func FunctionTaskKeysWithStatus(stub shim.ChaincodeStubInterface, function string, status protos.ComputeTaskStatus) ([]string, error) {
	if ctFuncStatusIndexed(status) {
		return ctScanTasks(stub, taskFuncStIndex, keyAttr(function), ctStatus(status))
	}
	keys, err := ctScanTasks(stub, taskFunctionIndex, keyAttr(function))
	if err != nil {
		return nil, err
	}
	tasks, err := GetComputeTasks(stub, keys)
	if err != nil {
		return nil, err
	}
	out := keys[:0]
	for _, k := range keys {
		if t := tasks[k]; t != nil && t.GetStatus() == status {
			out = append(out, k)
		}
	}
	return out, nil
}

// PlanHasTaskWithStatus reports whether at least one task of the plan is in
// status. It stops at the first index entry.
func PlanHasTaskWithStatus(stub shim.ChaincodeStubInterface, plan string, status protos.ComputeTaskStatus) (bool, error) {
	it, err := stub.GetStateByPartialCompositeKey(taskPlanStIndex, []string{keyAttr(plan), ctStatus(status)})
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
// cover are checked on each task. statusKeyed says whether its keys hold
// the status: then every task it lists is in the filter's status, and its
// status entry need not be read.
func ctTaskQueryIndex(f *protos.TaskQueryFilter) (object string, attrs []string, statusKeyed bool) {
	st := f.GetStatus() != protos.ComputeTaskStatus_STATUS_UNKNOWN
	switch {
	case f.GetComputePlanKey() != "" && st:
		return taskPlanStIndex, []string{keyAttr(f.GetComputePlanKey()), ctStatus(f.GetStatus())}, true
	case f.GetComputePlanKey() != "":
		return taskPlanIndex, []string{keyAttr(f.GetComputePlanKey())}, false
	case f.GetWorker() != "" && st:
		return taskWorkerStIndex, []string{f.GetWorker(), ctStatus(f.GetStatus())}, true
	case f.GetFunctionKey() != "" && st && ctFuncStatusIndexed(f.GetStatus()):
		return taskFuncStIndex, []string{keyAttr(f.GetFunctionKey()), ctStatus(f.GetStatus())}, true
	case f.GetWorker() != "":
		return taskWorkerIndex, []string{f.GetWorker()}, false
	case f.GetFunctionKey() != "":
		// A function's tasks in another status than a build's are
		// filtered on each task.
		return taskFunctionIndex, []string{keyAttr(f.GetFunctionKey())}, false
	}
	// A status alone is filtered on each task of the creation-order index.
	return taskAllIndex, nil, false
}

// ctViewMatches reports whether the task of record v, in status st,
// passes the filter.
func ctViewMatches(v *ctView, st protos.ComputeTaskStatus, f *protos.TaskQueryFilter) bool {
	return (f.GetWorker() == "" || string(v.worker) == f.GetWorker()) &&
		(f.GetStatus() == protos.ComputeTaskStatus_STATUS_UNKNOWN || st == f.GetStatus()) &&
		(f.GetComputePlanKey() == "" || string(v.plan) == f.GetComputePlanKey()) &&
		(f.GetFunctionKey() == "" || string(v.function) == f.GetFunctionKey())
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
// its key (the asset key, in the compact form of keyenc.go for a task
// index: ctEntryTasks) and its value.
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
			last, ok := ctLastAttr(kv.GetKey())
			if !ok {
				it.Close()
				return "", orcerr.New(orcerr.Internal, "bad index key %q in %s", kv.GetKey(), object)
			}
			idxKeys = append(idxKeys, kv.GetKey())
			entries = append(entries, ctEntry{key: last, value: kv.GetValue()})
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

// QueryComputeTasks lists the tasks matching filter, a page at a time: the
// decoded QueryComputeTaskPage.
func QueryComputeTasks(stub shim.ChaincodeStubInterface, f *protos.TaskQueryFilter, token string, size uint32) ([]*protos.ComputeTask, string, error) {
	b, err := QueryComputeTaskPage(stub, f, token, size)
	if err != nil {
		return nil, "", err
	}
	var page protos.QueryTasksResponse
	if err := proto.Unmarshal(b, &page); err != nil {
		return nil, "", orcerr.Wrap(orcerr.Internal, err, "decode page of compute tasks")
	}
	return page.GetTasks(), page.GetNextPageToken(), nil
}

// QueryComputeTaskPage returns the page of tasks matching filter after
// token (size of them; 0: the default), with the token of the next page,
// as the deterministic encoding of a QueryTasksResponse. The page is
// written from the stored records and status entries, which are not
// decoded (see computetask_codec.go); a task listed by an index that holds
// the status is in that status, and its status entry is not read.
func QueryComputeTaskPage(stub shim.ChaincodeStubInterface, f *protos.TaskQueryFilter, token string, size uint32) ([]byte, error) {
	n := int(size)
	if n == 0 {
		n = ctDefaultPageSize
	}
	object, attrs, statusKeyed := ctTaskQueryIndex(f)
	var page ctPage
	var keys []string
	next, err := ctPageWalk(stub, object, attrs, token, n, func(entries []ctEntry) ([]bool, error) {
		// The records, each followed by its status entry unless the
		// index tells the status.
		per := 2
		if statusKeyed {
			per = 1
		}
		keys = keys[:0]
		for _, e := range entries {
			if err := ctCheckAttr(e.key); err != nil {
				return nil, err
			}
			keys = append(keys, ctJoin(taskObject, e.key))
			if !statusKeyed {
				keys = append(keys, ctJoin(taskStatusObject, e.key))
			}
		}
		vals, err := stub.GetMultipleStates(keys...)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "read compute tasks")
		}
		if page.buf == nil {
			size := 0
			for i := 0; i < len(vals); i += per {
				size += len(vals[i]) + 8
			}
			page.buf = make([]byte, 0, size+len(token)+8)
		}
		ok := make([]bool, len(entries))
		for i, e := range entries {
			rec := vals[i*per]
			if rec == nil {
				continue
			}
			v, err := ctViewRecord(rec)
			if err != nil {
				return nil, orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", e.key)
			}
			st := f.GetStatus()
			if !statusKeyed {
				if st, err = ctCurrentStatus(&v, vals[i*per+1]); err != nil {
					return nil, orcerr.Wrap(orcerr.Internal, err, "decode status of compute task %s", e.key)
				}
			}
			if !ctViewMatches(&v, st, f) {
				continue
			}
			ok[i] = true
			if page.n < n {
				page.add(rec, &v, st)
			}
		}
		return ok, nil
	})
	if err != nil {
		return nil, err
	}
	return page.finish(next), nil
}
