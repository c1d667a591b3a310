package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// A performance is identified by its task and task output; it is stored
// under (performance, task, output) and listed in creation order through
// two indexes, all of them or those of one task.
const (
	perfObject    = "performance"
	perfAllIndex  = "performance~time"
	perfTaskIndex = "performance~task~time"
)

// PerformanceKey is the key under which events name a performance:
// "<task key>|<output identifier>".
func PerformanceKey(p *protos.Performance) string {
	return p.GetComputeTaskKey() + "|" + p.GetComputeTaskOutputIdentifier()
}

// PerformanceExists reports whether the task output already has its
// performance.
func PerformanceExists(stub shim.ChaincodeStubInterface, task, identifier string) (bool, error) {
	sk, err := ctKey(stub, perfObject, task, identifier)
	if err != nil {
		return false, err
	}
	b, err := stub.GetState(sk)
	if err != nil {
		return false, orcerr.Wrap(orcerr.Internal, err, "read performance")
	}
	return b != nil, nil
}

// AddPerformance stores a new performance and its index entries.
func AddPerformance(stub shim.ChaincodeStubInterface, p *protos.Performance) error {
	sk, err := ctKey(stub, perfObject, p.GetComputeTaskKey(), p.GetComputeTaskOutputIdentifier())
	if err != nil {
		return err
	}
	b, err := Marshal(p)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode performance")
	}
	if err := ctPut(stub, sk, b); err != nil {
		return err
	}
	ts := ctTime(p.GetCreationDate())
	// Index entries carry the (small, immutable) record itself, so a query
	// needs no further read.
	for _, spec := range [][]string{
		{perfAllIndex, ts, p.GetComputeTaskKey(), p.GetComputeTaskOutputIdentifier()},
		{perfTaskIndex, p.GetComputeTaskKey(), ts, p.GetComputeTaskOutputIdentifier()},
	} {
		k, err := ctKey(stub, spec[0], spec[1:]...)
		if err != nil {
			return err
		}
		if err := ctPut(stub, k, b); err != nil {
			return err
		}
	}
	return nil
}

// QueryPerformances lists performances in creation order, a page at a
// time, optionally only those of one task and/or one output identifier.
func QueryPerformances(stub shim.ChaincodeStubInterface, f *protos.PerformanceQueryFilter, token string, size uint32) ([]*protos.Performance, string, error) {
	n := int(size)
	if n == 0 {
		n = ctDefaultPageSize
	}
	object, attrs := perfAllIndex, []string(nil)
	if f.GetComputeTaskKey() != "" {
		object, attrs = perfTaskIndex, []string{f.GetComputeTaskKey()}
	}
	var perfs []*protos.Performance
	next, err := ctPageWalk(stub, object, attrs, token, n, func(entries []ctEntry) ([]bool, error) {
		ok := make([]bool, len(entries))
		for i, e := range entries {
			p := new(protos.Performance)
			if err := proto.Unmarshal(e.value, p); err != nil {
				return nil, orcerr.Wrap(orcerr.Internal, err, "decode performance")
			}
			if f.GetComputeTaskOutputIdentifier() != "" && p.GetComputeTaskOutputIdentifier() != f.GetComputeTaskOutputIdentifier() {
				continue
			}
			ok[i] = true
			if len(perfs) < n {
				perfs = append(perfs, p)
			}
		}
		return ok, nil
	})
	if err != nil {
		return nil, "", err
	}
	return perfs, next, nil
}
