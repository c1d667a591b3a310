package ledger

import (
	"encoding/binary"

	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// storeEvents writes the transaction's log entry and the asset index
// entries of its events.
func (l *Tx) storeEvents() error {
	if len(l.events) == 0 {
		return nil
	}
	txID := l.GetTxID()
	logKey := eventLogKey(tsNanos(l.ts), txID)
	size := 64
	for i, ev := range l.events {
		if !validKeyText(ev.GetAssetKey()) {
			return orcerr.New(orcerr.Internal, "event about asset %q: the key cannot be indexed", ev.GetAssetKey())
		}
		size += 24 + len(ev.GetAssetKey()) + len(l.bodies[i])
	}
	if err := l.PutState(logKey, appendEventLog(make([]byte, 0, size), txID, l.ts, l.events, l.bodies)); err != nil {
		return err
	}
	// The asset index keys are cut from one buffer, their kinds from
	// another: an event costs few allocations.
	keys := make([]byte, 0, len(l.events)*(len(eventAssetPrefix)+uuidChars+1+eventLogKeyLen+4))
	kinds := make([]byte, 0, 4*len(l.events))
	bounds := make([]int, 0, 2*len(l.events))
	for n, ev := range l.events {
		keys = appendEventAssetKey(keys, eventAssetBase(ev.GetAssetKey()), logKey, n)
		kinds = binary.AppendUvarint(kinds, uint64(ev.GetAssetKind()))
		kinds = binary.AppendUvarint(kinds, uint64(ev.GetEventKind()))
		bounds = append(bounds, len(keys), len(kinds))
	}
	all := string(keys)
	k0, v0 := 0, 0
	for n := range l.events {
		k1, v1 := bounds[2*n], bounds[2*n+1]
		if err := l.PutState(all[k0:k1], kinds[v0:v1:v1]); err != nil {
			return err
		}
		k0, v0 = k1, v1
	}
	return nil
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
