package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Compute plans are stored under (computeplan, key). Two indexes list them
// in creation order, all of them or those of one owner. A plan record
// changes only on rename, cancelation and first failure: task actions never
// write it, so it is not a hot key.
const (
	planObject     = "computeplan"
	planAllIndex   = "computeplan~time"
	planOwnerIndex = "computeplan~owner~time"
)

// ComputePlanKind is where compute plan records live (stored as the
// ComputePlan message itself).
var ComputePlanKind = Kind{Object: planObject, Noun: "computeplan"}

// GetComputePlan reads one plan; OE0002 when absent.
func GetComputePlan(stub shim.ChaincodeStubInterface, key string) (*protos.ComputePlan, error) {
	sk, err := ctKey(stub, planObject, key)
	if err != nil {
		return nil, err
	}
	b, err := stub.GetState(sk)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read compute plan %s", key)
	}
	if b == nil {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", ComputePlanKind.Noun, key)
	}
	p := new(protos.ComputePlan)
	if err := proto.Unmarshal(b, p); err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "decode compute plan %s", key)
	}
	return p, nil
}

// ComputePlanExists reports whether a plan is stored under key.
func ComputePlanExists(stub shim.ChaincodeStubInterface, key string) (bool, error) {
	sk, err := ctKey(stub, planObject, key)
	if err != nil {
		return false, err
	}
	b, err := stub.GetState(sk)
	if err != nil {
		return false, orcerr.Wrap(orcerr.Internal, err, "read compute plan %s", key)
	}
	return b != nil, nil
}

// PutComputePlan stores a plan record; with created set it also writes the
// index entries of a new plan.
func PutComputePlan(stub shim.ChaincodeStubInterface, p *protos.ComputePlan, created bool) error {
	sk, err := ctKey(stub, planObject, p.GetKey())
	if err != nil {
		return err
	}
	b, err := Marshal(p)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode compute plan %s", p.GetKey())
	}
	if err := ctPut(stub, sk, b); err != nil {
		return err
	}
	if !created {
		return nil
	}
	ts := ctTime(p.GetCreationDate())
	for _, spec := range [][]string{
		{planAllIndex, ts, p.GetKey()},
		{planOwnerIndex, p.GetOwner(), ts, p.GetKey()},
	} {
		k, err := ctKey(stub, spec[0], spec[1:]...)
		if err != nil {
			return err
		}
		if err := ctPut(stub, k, marker); err != nil {
			return err
		}
	}
	return nil
}

// QueryComputePlans lists plans (of one owner when owner is set) in
// creation order, a page at a time.
func QueryComputePlans(stub shim.ChaincodeStubInterface, owner, token string, size uint32) ([]*protos.ComputePlan, string, error) {
	n := int(size)
	if n == 0 {
		n = ctDefaultPageSize
	}
	object, attrs := planAllIndex, []string(nil)
	if owner != "" {
		object, attrs = planOwnerIndex, []string{owner}
	}
	var plans []*protos.ComputePlan
	next, err := ctPageWalk(stub, object, attrs, token, n, func(entries []ctEntry) ([]bool, error) {
		ok := make([]bool, len(entries))
		for i, k := range ctEntryKeys(entries) {
			p, err := GetComputePlan(stub, k)
			if err != nil {
				return nil, err
			}
			ok[i] = true
			if len(plans) < n {
				plans = append(plans, p)
			}
		}
		return ok, nil
	})
	if err != nil {
		return nil, "", err
	}
	return plans, next, nil
}
