// Package chaincode assembles the orchestrator chaincode: the thirteen
// contracts, one per service of the orchestrator API, with the raw []byte
// transaction serializer.
package chaincode

import (
	"fmt"
	"reflect"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/contracts/computeplan"
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/contracts/datamanager"
	"github.com/fedchain/orchestrator/contracts/datasample"
	"github.com/fedchain/orchestrator/contracts/dataset"
	"github.com/fedchain/orchestrator/contracts/event"
	"github.com/fedchain/orchestrator/contracts/failurereport"
	"github.com/fedchain/orchestrator/contracts/function"
	"github.com/fedchain/orchestrator/contracts/info"
	"github.com/fedchain/orchestrator/contracts/model"
	"github.com/fedchain/orchestrator/contracts/organization"
	"github.com/fedchain/orchestrator/contracts/performance"
	"github.com/fedchain/orchestrator/contracts/profiling"
	"github.com/fedchain/orchestrator/contracts/txserializer"
	"github.com/fedchain/orchestrator/ledger"
)

// Contracts returns a new instance of every orchestrator contract, with
// an unversioned info contract.
func Contracts() []contractapi.ContractInterface { return contracts("") }

// contracts returns a new instance of every orchestrator contract; the
// info contract reports version.
func contracts(version string) []contractapi.ContractInterface {
	return []contractapi.ContractInterface{
		organization.New(),
		function.New(),
		datamanager.New(),
		datasample.New(),
		dataset.New(),
		computeplan.New(),
		computetask.New(),
		model.New(),
		performance.New(),
		failurereport.New(),
		profiling.New(),
		info.NewVersioned(version),
		event.New(),
	}
}

// Chaincode is the orchestrator chaincode: the contract API's chaincode
// (metadata, serializer, every transaction) with a direct path for the
// orchestrator transactions.
//
// Every orchestrator transaction is a contract method taking the context
// and the binary request and returning the binary response. Chaincode
// calls those methods directly, as the contract API would with the raw
// serializer, but without its per-call reflection and without parsing the
// creator's certificate into a client identity up front (the contracts
// read the caller's MSP id through the ledger view; ledger.Context derives
// the client identity only if a contract asks for it). Anything else (the
// metadata transaction, unknown names, other argument counts) goes to the
// contract API.
type Chaincode struct {
	*contractapi.ContractChaincode
	direct map[string]txFunc
}

// txFunc is the signature of an orchestrator transaction.
type txFunc = func(contractapi.TransactionContextInterface, []byte) ([]byte, error)

// afterFunc is the signature of ledger.AfterTransaction.
type afterFunc = func(contractapi.TransactionContextInterface) error

// Option configures the chaincode that New returns.
type Option func(*options)

type options struct{ version string }

// WithVersion sets the version that QueryVersion and the contract metadata
// report: the build version of the binary (info.ReadBuild), read once at
// start by its main package. Without it the chaincode is "dev".
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// New returns the orchestrator chaincode. It fails if the contracts'
// transactions are not exactly the rpcs of the protos with their kinds, if
// a contract is not set up for the ledger (see ledger.Configure) or if the
// contract API rejects one of them.
func New(opts ...Option) (*Chaincode, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cs := contracts(o.version)
	if err := checkRPCs(cs, protoRPCs()); err != nil {
		return nil, fmt.Errorf("chaincode: %w", err)
	}
	cc, err := assemble(cs)
	if err != nil {
		return nil, err
	}
	if o.version != "" {
		cc.Info.Version = o.version
	}
	return &Chaincode{ContractChaincode: cc, direct: directFuncs(cs)}, nil
}

// directFuncs maps "<contract>:<Method>" to the transactions of cs that
// may be called directly: methods with the orchestrator signature of
// contracts whose context is ledger.Context and whose after-transaction
// hook is ledger's.
func directFuncs(cs []contractapi.ContractInterface) map[string]txFunc {
	out := map[string]txFunc{}
	ft := reflect.TypeFor[txFunc]()
	for _, c := range cs {
		if _, ok := c.GetTransactionContextHandler().(*ledger.Context); !ok {
			continue
		}
		if _, ok := c.GetAfterTransaction().(afterFunc); !ok || c.GetBeforeTransaction() != nil {
			continue
		}
		v := reflect.ValueOf(c)
		for i := range v.NumMethod() {
			if m := v.Method(i); m.Type() == ft {
				out[c.GetName()+":"+v.Type().Method(i).Name] = m.Interface().(txFunc)
			}
		}
	}
	return out
}

// Invoke runs a transaction: an orchestrator transaction directly, then
// the ledger view's flush; anything else through the contract API.
func (c *Chaincode) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	args := stub.GetArgs()
	if len(args) != 2 {
		return c.ContractChaincode.Invoke(stub)
	}
	fn, ok := c.direct[string(args[0])]
	if !ok {
		return c.ContractChaincode.Invoke(stub)
	}
	ctx := new(ledger.Context)
	ctx.SetStub(stub)
	res, err := fn(ctx, args[1])
	if err == nil {
		err = ledger.AfterTransaction(ctx)
	}
	if err != nil {
		return shim.Error(err.Error())
	}
	if res == nil {
		res = []byte{}
	}
	return shim.Success(res)
}

func assemble(cs []contractapi.ContractInterface) (*contractapi.ContractChaincode, error) {
	for _, c := range cs {
		if !ledger.IsConfigured(c) {
			return nil, fmt.Errorf("chaincode: contract %s is not configured for the ledger (call ledger.Configure in its constructor)", c.GetName())
		}
	}
	cc, err := contractapi.NewChaincode(cs...)
	if err != nil {
		return nil, fmt.Errorf("chaincode: %w", err)
	}
	cc.TransactionSerializer = new(txserializer.Raw)
	cc.Info.Title = "fedchain orchestrator"
	cc.Info.Version = info.DevVersion
	return cc, nil
}
