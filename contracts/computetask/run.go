package computetask

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Run is the body of every transaction of the task-side contracts: decode
// the request into in, open a session on the transaction, let f do the
// work on behalf of the caller and encode the response. The ledger view
// of the transaction is flushed (writes, events) by the contract's
// AfterTransaction hook, installed by ledger.Configure, once f succeeded.
func Run[Res proto.Message](ctx contractapi.TransactionContextInterface, req []byte, in proto.Message,
	f func(s *Session, caller string) (Res, error)) ([]byte, error) {
	return runRaw(ctx, req, in, func(s *Session, caller string) ([]byte, error) {
		res, err := f(s, caller)
		if err != nil {
			return nil, err
		}
		out, err := ledger.Marshal(res)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "cannot encode response")
		}
		return out, nil
	})
}

// runRaw is Run for a transaction whose f returns the encoded response
// itself.
func runRaw(ctx contractapi.TransactionContextInterface, req []byte, in proto.Message,
	f func(s *Session, caller string) ([]byte, error)) ([]byte, error) {
	if err := proto.Unmarshal(req, in); err != nil {
		return nil, orcerr.Wrap(orcerr.ByteArray, err, "cannot decode %s", in.ProtoReflect().Descriptor().Name())
	}
	env, caller, err := openEnv(ctx)
	if err != nil {
		return nil, err
	}
	return f(NewSession(env), caller)
}
