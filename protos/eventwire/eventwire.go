// Package eventwire reads an orchestrator.Event in its wire form without
// decoding it: the event streams pass events on as the bytes the ledger
// stored and only need their id, so decoding every event would be work
// done twice.
package eventwire

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fedchain/orchestrator/protos"
)

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
