// Package eventwire is the wire form of the events between the contracts
// and the facades: the one chaincode event of a transaction, its framing,
// and an event's id read without decoding it (the event streams pass
// events on as the bytes the ledger emitted and only need their id, so
// decoding every event would be work done twice). Like protos/orcerr, it
// lives beside the protocol so that the contracts and both invokers share
// it without knowing each other.
package eventwire

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
)

// ChaincodeEventName is the name of the one chaincode event of an
// orchestrator transaction. Its payload is the transaction's
// orchestrator.Event messages, in order, each prefixed with its length as a
// varint (the protodelim framing). Every event has an id, so no length is
// 0 and a payload never starts with a zero byte: protos/compactwire marks
// its compact form of a payload with one.
const ChaincodeEventName = "orchestrator"

// ErrMalformed is wrapped by the errors of a payload whose framing is
// broken.
var ErrMalformed = errors.New("malformed chaincode event payload")

// Next splits the first event off a chaincode event payload: its encoding
// and the rest of the payload.
func Next(payload []byte) (raw, rest []byte, err error) {
	n, l := protowire.ConsumeVarint(payload)
	if l < 0 || n > uint64(len(payload)-l) {
		return nil, nil, fmt.Errorf("%w: bad length prefix", ErrMalformed)
	}
	return payload[l : l+int(n)], payload[l+int(n):], nil
}

// Decode returns the events of a chaincode event payload, decoded.
func Decode(payload []byte) ([]*protos.Event, error) {
	var out []*protos.Event
	for b := payload; len(b) > 0; {
		raw, rest, err := Next(b)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", len(out), err)
		}
		ev := new(protos.Event)
		if err := proto.Unmarshal(raw, ev); err != nil {
			return nil, fmt.Errorf("event %d: %w", len(out), err)
		}
		out = append(out, ev)
		b = rest
	}
	return out, nil
}

// idField is the field number of orchestrator.Event.id, from the
// descriptor rather than restated.
var idField = protos.File_event_proto.Messages().ByName("Event").Fields().ByName("id").Number()

// ID returns the id of the encoded orchestrator.Event raw, or "" when raw
// has none or is malformed.
func ID(raw []byte) string {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return ""
		}
		raw = raw[n:]
		if num == idField && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(raw)
			if n < 0 {
				return ""
			}
			return string(v)
		}
		n = protowire.ConsumeFieldValue(num, typ, raw)
		if n < 0 {
			return ""
		}
		raw = raw[n:]
	}
	return ""
}
