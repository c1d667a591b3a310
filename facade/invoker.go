package facade

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Invoker runs one contract transaction. The caller's identity and channel are
// in ctx (see CallerFrom). tx is the transaction name, e.g.
// "orchestrator.computetask:RegisterTasks"; arg is the request message and the
// result the response message, both in binary protobuf.
//
// Submit runs a transaction that changes the ledger and returns once it is
// committed; Evaluate runs a read-only one and commits nothing. A contract's
// error is returned with its text intact (it starts with its "OExxxx: " code,
// possibly after a transport prefix); an invoker that gives up on a
// transaction after MVCC conflicts wraps ErrConflict, one that cannot reach
// its backend wraps ErrUnavailable.
type Invoker interface {
	Submit(ctx context.Context, tx string, arg []byte) ([]byte, error)
	Evaluate(ctx context.Context, tx string, arg []byte) ([]byte, error)
}

// TxKind says how a transaction runs: submitted or evaluated.
type TxKind int

// The transaction kinds.
const (
	// Submit transactions change the ledger (Invoker.Submit).
	Submit TxKind = iota + 1
	// Evaluate transactions only read it (Invoker.Evaluate).
	Evaluate
)

// String returns "submit" or "evaluate".
func (k TxKind) String() string {
	switch k {
	case Submit:
		return "submit"
	case Evaluate:
		return "evaluate"
	}
	return "TxKind(invalid)"
}

// Transaction describes one contract transaction that a generated server runs.
type Transaction struct {
	// Name is the chaincode transaction name, "orchestrator.computetask:RegisterTasks".
	Name string
	// Kind says whether the server submits or evaluates it.
	Kind TxKind
	// FullMethod is the gRPC method it serves, "/orchestrator.ComputeTaskService/RegisterTasks".
	FullMethod string
}

// submit runs tx as a Submit transaction with req as its argument and
// unmarshals the result into resp. The returned error is a gRPC status error.
func submit(ctx context.Context, inv Invoker, tx string, req, resp proto.Message) error {
	return call(ctx, inv.Submit, tx, req, resp)
}

// evaluate is submit for Evaluate transactions.
func evaluate(ctx context.Context, inv Invoker, tx string, req, resp proto.Message) error {
	return call(ctx, inv.Evaluate, tx, req, resp)
}

func call(ctx context.Context, run func(context.Context, string, []byte) ([]byte, error), tx string, req, resp proto.Message) error {
	arg, err := proto.Marshal(req)
	if err != nil {
		return StatusError(fmt.Errorf("%s: marshal request: %w", tx, err))
	}
	res, err := run(ctx, tx, arg)
	if err != nil {
		return StatusError(err)
	}
	if err := proto.Unmarshal(res, resp); err != nil {
		return StatusError(fmt.Errorf("%s: unmarshal result: %w", tx, err))
	}
	return nil
}
