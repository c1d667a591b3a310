package ledger

import (
	"encoding/binary"
	"strings"

	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// storeEvents writes the transaction's events and their index entries.
func (l *Tx) storeEvents() error {
	if len(l.events) == 0 {
		return nil
	}
	txID := l.GetTxID()
	var pos, kinds []byte
	for n, ev := range l.events {
		nanos := ev.GetTimestamp().AsTime().UnixNano()
		kinds = appendKinds(kinds[:0], ev)
		pos = appendEventPos(pos[:0], nanos, txID, n)
		ak := ev.GetAssetKey()
		// The three keys are cut from one string: an event costs few
		// allocations.
		var all strings.Builder
		all.Grow(len(eventAllAsc) + len(eventAllDesc) + len(eventByKey) + len(ak) + 1 + 3*(len(pos)+len(kinds)))
		all.WriteString(eventAllAsc)
		all.Write(pos)
		all.Write(kinds)
		p1 := all.Len()
		all.WriteString(eventAllDesc)
		all.Write(appendEventDescPos(pos[:0], nanos, txID, n))
		all.Write(kinds)
		p2 := all.Len()
		all.WriteString(eventByKey)
		all.WriteString(ak)
		all.WriteByte(0)
		all.WriteString(all.String()[len(eventAllAsc):p1]) // position and kinds
		keys := all.String()
		if err := l.PutState(keys[:p1], l.storedEvent(n)); err != nil {
			return err
		}
		for _, e := range [...]string{keys[p1:p2], keys[p2:]} {
			if err := l.PutState(e, marker); err != nil {
				return err
			}
		}
	}
	return nil
}

// storedEvent returns the bytes the state keeps of the n-th event.
func (l *Tx) storedEvent(n int) []byte {
	if n < len(l.compact) && l.compact[n] != nil {
		return l.compact[n]
	}
	return l.encoded[n]
}

// setChaincodeEvent publishes the transaction's events as one chaincode
// event: each event varint-length-delimited, in emission order.
func (l *Tx) setChaincodeEvent() error {
	if len(l.events) == 0 {
		return nil
	}
	// The encodings are deterministic (endorsers must agree on every
	// byte); each is prefixed with its length as a varint, as protodelim
	// does.
	size := 0
	for _, b := range l.encoded {
		size += binary.MaxVarintLen64 + len(b)
	}
	payload := make([]byte, 0, size)
	for _, b := range l.encoded {
		payload = binary.AppendUvarint(payload, uint64(len(b)))
		payload = append(payload, b...)
	}
	if err := l.SetEvent(eventwire.ChaincodeEventName, payload); err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "set chaincode event")
	}
	return nil
}
