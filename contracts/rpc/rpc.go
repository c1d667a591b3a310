// Package rpc is what the generated transactions of the orchestrator
// contracts share: decoding the binary protobuf request, the typed
// Response of a rule (a message, or its encoding when the contract already
// holds it) and its deterministic encoding.
package rpc

import (
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Decode unmarshals a request; OE0001 when the bytes are not a valid
// message.
func Decode(req []byte, m proto.Message) error {
	if err := proto.Unmarshal(req, m); err != nil {
		return orcerr.Wrap(orcerr.ByteArray, err, "cannot decode %s", m.ProtoReflect().Descriptor().FullName())
	}
	return nil
}

// Encode marshals a response deterministically.
func Encode(m proto.Message) ([]byte, error) {
	b, err := ledger.Marshal(m)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "cannot encode %s", m.ProtoReflect().Descriptor().FullName())
	}
	return b, nil
}

// AsCaller answers fn's response to the request q, fn acting on behalf of
// the caller of the transaction (its MSP id): the rule of most rpcs that
// register or change an asset.
func AsCaller[Q any, M proto.Message](l *ledger.Tx, q Q, fn func(l *ledger.Tx, caller string, q Q) (M, error)) (Response[M], error) {
	caller, err := l.Caller()
	if err != nil {
		return Response[M]{}, err
	}
	return Answer(fn(l, caller, q))
}
