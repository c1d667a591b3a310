package computetask

import (
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
)

// Run is the body of the rules of the task-side contracts: it opens a
// session on the transaction's ledger view l and lets f do the work on
// behalf of the caller. The ledger view of the transaction is flushed
// (writes, events) by the contract's AfterTransaction hook, installed by
// ledger.Configure, once the rule succeeded.
func Run[R proto.Message](l *ledger.Tx, f func(s *Session, caller string) (R, error)) (rpc.Response[R], error) {
	s, caller, err := open(l)
	if err != nil {
		return rpc.Response[R]{}, err
	}
	return rpc.Answer(f(s, caller))
}

// open opens a session on l for its caller.
func open(l *ledger.Tx) (*Session, string, error) {
	env, caller, err := openEnv(l)
	if err != nil {
		return nil, "", err
	}
	return NewSession(env), caller, nil
}
