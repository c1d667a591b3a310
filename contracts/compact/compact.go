// Package compact serves a chaincode's transactions in the compact wire
// form of protos/compactwire when the caller asks for it, so that what
// Fabric stores of a transaction in every block (its request, its answer,
// its chaincode event) takes a fraction of the bytes.
//
// The caller asks by sending its request, the transaction's second
// argument, in compact form (stored or compressed; a zero byte starts
// it, which no protobuf request does). Then, and only then, Chaincode
// hands the wrapped chaincode the decoded request, and returns the answer
// and sets the chaincode event in compact form. Every other call (a
// plain request from an older facade or the peer CLI, the contract API's
// metadata transaction) reaches the wrapped chaincode untouched, and gets
// plain answers and events: a caller never reads a form it did not ask
// for.
//
// A request in compact form rides in the transaction's arguments, which
// every endorser gets the same, rather than in transient data, which Fabric
// leaves out of the block but which would make the request's meaning depend
// on what is not recorded.
package compact

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/protos/compactwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Chaincode is a shim.Chaincode that serves another one in compact form
// to the callers that ask for it.
type Chaincode struct {
	cc    shim.Chaincode
	codec *compactwire.Codec
}

// New returns cc served in compact form to the callers that ask for it,
// encoding and decoding with codec.
func New(cc shim.Chaincode, codec *compactwire.Codec) *Chaincode {
	return &Chaincode{cc: cc, codec: codec}
}

// Init runs the wrapped chaincode's Init.
func (c *Chaincode) Init(stub shim.ChaincodeStubInterface) *peer.Response { return c.cc.Init(stub) }

// Invoke runs a transaction: one whose request is in compact form with the
// request decoded, its answer and chaincode event encoded; any other as it
// is. A compact request that does not decode, or decodes beyond
// compactwire.MaxPlainBytes, is an InvalidAsset error (InvalidArgument),
// and the wrapped chaincode does not run.
func (c *Chaincode) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	args := stub.GetArgs()
	if len(args) != 2 || !compactwire.IsCompact(args[1]) {
		return c.cc.Invoke(stub)
	}
	req, err := c.codec.Decode(args[1])
	if err != nil {
		return shim.Error(orcerr.Wrap(orcerr.InvalidAsset, err, "%s: request of %d bytes", args[0], len(args[1])).Error())
	}
	res := c.cc.Invoke(&compactStub{ChaincodeStubInterface: stub, args: [][]byte{args[0], req}, codec: c.codec})
	if res.GetStatus() < shim.ERRORTHRESHOLD && len(res.GetPayload()) > 0 {
		res.Payload = c.codec.Encode(res.GetPayload())
	}
	return res
}
