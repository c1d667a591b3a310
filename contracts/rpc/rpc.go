// Package rpc runs one orchestrator contract function: it decodes the
// binary protobuf request, hands it with the transaction's ledger view to
// the function's logic, and encodes the response.
package rpc

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// message is a proto message type *M.
type message[M any] interface {
	*M
	proto.Message
}

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

// Serve decodes req as a *Q, calls fn with the transaction's ledger view
// and the request, and encodes fn's response.
func Serve[Q any, PQ message[Q], R proto.Message](ctx contractapi.TransactionContextInterface, req []byte, fn func(l *ledger.Tx, q PQ) (R, error)) ([]byte, error) {
	q := PQ(new(Q))
	if err := Decode(req, q); err != nil {
		return nil, err
	}
	res, err := fn(ledger.From(ctx), q)
	if err != nil {
		return nil, err
	}
	return Encode(res)
}

// ServeCaller is Serve for functions that need the caller's MSP id.
func ServeCaller[Q any, PQ message[Q], R proto.Message](ctx contractapi.TransactionContextInterface, req []byte, fn func(l *ledger.Tx, caller string, q PQ) (R, error)) ([]byte, error) {
	return Serve(ctx, req, func(l *ledger.Tx, q PQ) (R, error) {
		caller, err := l.Caller()
		if err != nil {
			var zero R
			return zero, err
		}
		return fn(l, caller, q)
	})
}

// ServeCallerRaw is ServeCaller for functions that encode their response
// themselves (EncodeRecords).
func ServeCallerRaw[Q any, PQ message[Q]](ctx contractapi.TransactionContextInterface, req []byte, fn func(l *ledger.Tx, caller string, q PQ) ([]byte, error)) ([]byte, error) {
	return ServeRaw(ctx, req, func(l *ledger.Tx, q PQ) ([]byte, error) {
		caller, err := l.Caller()
		if err != nil {
			return nil, err
		}
		return fn(l, caller, q)
	})
}

// EncodeRecords returns what Encode returns for a response message like
// resp whose only set field is its repeated message field named field,
// given the stored records (deterministic encodings) of its elements: each
// element of a repeated message field is its tag, its length and the
// element's own encoding. A batch registration answers the assets it just
// stored, so it need not encode them again. The field number comes from
// resp's descriptor, as the .proto file states it.
func EncodeRecords(resp proto.Message, field protoreflect.Name, records [][]byte) ([]byte, error) {
	md := resp.ProtoReflect().Descriptor()
	fd := md.Fields().ByName(field)
	if fd == nil || !fd.IsList() || fd.Kind() != protoreflect.MessageKind {
		return nil, orcerr.New(orcerr.Internal, "cannot encode %s: no repeated message field %s", md.FullName(), field)
	}
	num := fd.Number()
	n := 0
	for _, r := range records {
		n += protowire.SizeTag(num) + protowire.SizeBytes(len(r))
	}
	out := make([]byte, 0, n)
	for _, r := range records {
		out = protowire.AppendTag(out, num, protowire.BytesType)
		out = protowire.AppendBytes(out, r)
	}
	return out, nil
}

// ServeRaw decodes req as a *Q and returns fn's bytes as the response, for
// functions whose response is already encoded (a stored record).
func ServeRaw[Q any, PQ message[Q]](ctx contractapi.TransactionContextInterface, req []byte, fn func(l *ledger.Tx, q PQ) ([]byte, error)) ([]byte, error) {
	q := PQ(new(Q))
	if err := Decode(req, q); err != nil {
		return nil, err
	}
	return fn(ledger.From(ctx), q)
}
