package ledger

import (
	"github.com/fedchain/orchestrator/protos"
)

// Function indexes: (function~time, <time>, <key>) lists all functions by
// creation time then key; (function~plan, <plan>, <time>, <key>) lists the
// functions used by the tasks of a compute plan, written by the compute
// task contract through IndexFunctionInPlan.
const (
	functionTimeIndex = "function~time"
	functionPlanIndex = "function~plan"
)

// GetFunction reads function key; OE0002 when unknown.
func GetFunction(l *Tx, key string) (*protos.Function, error) {
	return Get[protos.Function](l, FunctionKind, key)
}

// AddFunction stores a new function and indexes it.
func AddFunction(l *Tx, f *protos.Function) error {
	if err := Put(l, FunctionKind, f.GetKey(), f); err != nil {
		return err
	}
	return l.putIndex(functionTimeIndex, sortTime(f.GetCreationDate()), f.GetKey())
}

// UpdateFunction stores a changed function (its key and creation date,
// which the indexes hold, never change).
func UpdateFunction(l *Tx, f *protos.Function) error {
	return Put(l, FunctionKind, f.GetKey(), f)
}

// IndexFunctionInPlan records that a task of compute plan plan uses f, so
// that QueryFunctions can filter by compute plan. Calling it again for the
// same pair rewrites the same entry.
func IndexFunctionInPlan(l *Tx, plan string, f *protos.Function) error {
	return l.putIndex(functionPlanIndex, plan, sortTime(f.GetCreationDate()), f.GetKey())
}

// QueryFunctions returns a page of functions by creation time then key,
// only those used in compute plan plan when it is set (evaluate only).
func QueryFunctions(l *Tx, plan, token string, size int) ([]*protos.Function, string, error) {
	index, prefix := functionTimeIndex, []string(nil)
	if plan != "" {
		index, prefix = functionPlanIndex, []string{plan}
	}
	return queryAssets[protos.Function](l, FunctionKind, index, prefix, token, size)
}

// queryAssets pages through an index whose entries end with asset keys and
// returns the assets.
func queryAssets[M any, P message[M]](l *Tx, k Kind, index string, prefix []string, token string, size int) ([]P, string, error) {
	var keys []string
	next, err := l.pageIndex(index, prefix, pager{Token: token, Size: size, Keep: func(e scanEntry) (bool, error) {
		if len(e.Attrs) == 0 {
			return false, nil
		}
		keys = append(keys, e.Attrs[len(e.Attrs)-1])
		return true, nil
	}})
	if err != nil {
		return nil, "", err
	}
	out, err := GetAll[M, P](l, k, keys)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
