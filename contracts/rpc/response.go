package rpc

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Response is the answer of a rule whose rpc responds with an M: a
// message, or the deterministic encoding of one that the contract already
// holds (a stored record, records it has just encoded), which it need not
// decode only to have it encoded again. Either way the rule's signature
// names M, so the generated transaction cannot answer another type.
type Response[M proto.Message] struct {
	msg     M
	encoded []byte
	raw     bool // encoded holds the response
}

// Answer returns the response m, or err.
func Answer[M proto.Message](m M, err error) (Response[M], error) {
	return Response[M]{msg: m}, err
}

// Encoded returns the response whose deterministic encoding is b (for
// instance an M as the ledger stores it), or err.
func Encoded[M proto.Message](b []byte, err error) (Response[M], error) {
	return Response[M]{encoded: b, raw: true}, err
}

// Records returns the response M whose only set field is its repeated
// message field named field, given the deterministic encodings of its
// elements: each element of a repeated message field is its tag, its
// length and the element's own encoding. A batch registration answers the
// assets it has just stored, so it need not encode them again. The field
// number comes from M's descriptor, as the .proto file states it.
func Records[M proto.Message](field protoreflect.Name, records [][]byte) (Response[M], error) {
	var m M
	md := m.ProtoReflect().Descriptor()
	fd := md.Fields().ByName(field)
	if fd == nil || !fd.IsList() || fd.Kind() != protoreflect.MessageKind {
		return Response[M]{}, orcerr.New(orcerr.Internal, "cannot encode %s: no repeated message field %s", md.FullName(), field)
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
	return Encoded[M](out, nil)
}

// Encode returns the deterministic encoding of the response.
func (r Response[M]) Encode() ([]byte, error) {
	if r.raw {
		return r.encoded, nil
	}
	return Encode(r.msg)
}
