package chaincode

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// contract is what the chaincode needs of each contract: the contract API's
// interface and the list of its read-only transactions, which every
// generated contract has (GetEvaluateTransactions).
type contract interface {
	contractapi.ContractInterface
	contractapi.EvaluationContractInterface
}

// rpc is one transaction that a proto service declares (see rpcs.gen.go).
type rpc struct {
	Name     string
	Evaluate bool // EVALUATE (read-only), else SUBMIT
}

// checkRPCs fails unless cs are exactly the contracts of want and each
// contract's transactions are exactly its service's rpcs, with the same
// kinds. The contract API would register any other exported method as a
// SUBMIT transaction; this refuses it, so a transaction cannot exist
// without an rpc, nor with another kind than the rpc's.
func checkRPCs(cs []contract, want map[string][]rpc) error {
	var errs []error
	seen := map[string]bool{}
	ignored := map[string]bool{}
	for _, t := range []reflect.Type{
		reflect.TypeFor[*contractapi.Contract](),
		reflect.TypeFor[contractapi.EvaluationContractInterface](),
		reflect.TypeFor[contractapi.IgnoreContractInterface](),
	} {
		for i := range t.NumMethod() {
			ignored[t.Method(i).Name] = true
		}
	}
	ft := reflect.TypeFor[txFunc]()
	for _, c := range cs {
		name := c.GetName()
		rpcs, ok := want[name]
		if !ok {
			errs = append(errs, fmt.Errorf("contract %s serves no service of the protos", name))
			continue
		}
		seen[name] = true
		declared := map[string]bool{}
		var eval []string
		for _, r := range rpcs {
			declared[r.Name] = true
			if r.Evaluate {
				eval = append(eval, r.Name)
			}
		}
		v := reflect.ValueOf(c)
		for i := range v.NumMethod() {
			m := v.Type().Method(i)
			switch {
			case ignored[m.Name]:
			case !declared[m.Name]:
				errs = append(errs, fmt.Errorf("%s:%s is not an rpc of the protos", name, m.Name))
			case v.Method(i).Type() != ft:
				errs = append(errs, fmt.Errorf("%s:%s has signature %v, want %v", name, m.Name, v.Method(i).Type(), ft))
			}
			delete(declared, m.Name)
		}
		for _, r := range rpcs {
			if declared[r.Name] {
				errs = append(errs, fmt.Errorf("%s: rpc %s has no transaction", name, r.Name))
			}
		}
		got := slices.Clone(c.GetEvaluateTransactions())
		slices.Sort(got)
		slices.Sort(eval)
		if !slices.Equal(got, eval) {
			errs = append(errs, fmt.Errorf("%s: evaluate transactions %v, the protos say %v", name, got, eval))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if !seen[name] {
			errs = append(errs, fmt.Errorf("no contract for %s", name))
		}
	}
	return errors.Join(errs...)
}
