// Package chaincode assembles the orchestrator chaincode: the contracts,
// one per service of the orchestrator API (listed, with their transactions
// and kinds, in rpcs.gen.go, generated from the protos), with the raw
// []byte transaction serializer.
package chaincode

import (
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/contracts/info"
	"github.com/fedchain/orchestrator/contracts/organization"
	"github.com/fedchain/orchestrator/contracts/txserializer"
	"github.com/fedchain/orchestrator/ledger"
)

// Chaincode is the orchestrator chaincode: the contract API's chaincode
// (metadata, serializer, every transaction) with a direct path for the
// orchestrator transactions.
//
// Every orchestrator transaction is a generated contract method taking the
// context and the binary request and returning the binary response.
// Chaincode calls those methods directly, through the table generated from
// the protos (rpcs.gen.go), as the contract API would with the raw
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

// Option configures the chaincode that New returns.
type Option func(*options)

type options struct{ version string }

// WithVersion sets the version that QueryVersion and the contract metadata
// report: the build version of the binary (info.ReadBuild), read once at
// start by its main package. Without it the chaincode is "dev".
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// New returns the orchestrator chaincode. It fails if the contracts'
// transactions are not exactly the rpcs of the protos with their kinds
// (a hand-written exported method would be one more transaction), if a
// contract is not set up for the ledger (see ledger.Configure) or if the
// contract API rejects one of them.
func New(opts ...Option) (*Chaincode, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	set := newContractSet()
	info.SetVersion(set.info, o.version)
	cs := set.list()
	if err := checkRPCs(cs, protoRPCs()); err != nil {
		return nil, fmt.Errorf("chaincode: %w", err)
	}
	api := make([]contractapi.ContractInterface, len(cs))
	for i, c := range cs {
		api[i] = c
	}
	cc, err := assemble(api)
	if err != nil {
		return nil, err
	}
	// The contract API's default contract serves function names without a
	// contract and is flagged in the metadata: the organization contract,
	// as when the contracts were listed by hand.
	cc.DefaultContract = organization.ContractName
	if o.version != "" {
		cc.Info.Version = o.version
	}
	return &Chaincode{ContractChaincode: cc, direct: set.direct()}, nil
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
