package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedchain/orchestrator/protos"
)

// encodeEvent returns Marshal(ev) given asset, the deterministic encoding
// of the asset set in ev. The Go protobuf runtime encodes the fields of a
// message in number order, but those of its oneofs last (as the historic
// implementation did), and a message field is its tag, its length and the
// message's own encoding: the event is the event without its asset, then
// the asset field. TestEmitEncoded checks this against marshal for every
// kind of asset.
func encodeEvent(ev *protos.Event, asset []byte) ([]byte, error) {
	m := ev.ProtoReflect()
	fd := m.WhichOneof(eventAssetOneof)
	if fd == nil || !eventSpliceable || len(m.GetUnknown()) > 0 {
		return Marshal(ev)
	}
	held := ev.Asset
	ev.Asset = nil
	b, err := Marshal(ev)
	ev.Asset = held
	if err != nil {
		return nil, err
	}
	b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
	return protowire.AppendBytes(b, asset), nil
}

// eventAssetOneof is the asset oneof of Event.
var eventAssetOneof = (&protos.Event{}).ProtoReflect().Descriptor().Oneofs().ByName("asset")

// eventSpliceable reports whether Event has the layout encodeEvent relies
// on: the asset oneof is its only oneof, so it is encoded last. Should the
// protocol ever change that, encodeEvent encodes the whole event.
var eventSpliceable = func() bool {
	n := 0
	oneofs := eventAssetOneof.Parent().(protoreflect.MessageDescriptor).Oneofs()
	for i := range oneofs.Len() {
		if !oneofs.Get(i).IsSynthetic() {
			n++
		}
	}
	return n == 1
}()

// Events returns the events emitted so far by the transaction (as passed
// to Emit: what is stored and published is their encoding at Emit time).
func (l *Tx) Events() []*protos.Event { return l.events }

// eventID returns the id of the n-th event (from 0) of transaction txID: a
// UUID (RFC 9562 version 8 layout) made of the SHA-256 of both.
func eventID(txID string, n int) string {
	// Built in stack buffers: a transaction registering a task batch
	// derives one id per task.
	var in [128]byte
	h := sha256.Sum256(strconv.AppendInt(append(append(in[:0], txID...), 0), int64(n), 10))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	var x [36]byte
	hex.Encode(x[0:8], b[0:4])
	x[8] = '-'
	hex.Encode(x[9:13], b[4:6])
	x[13] = '-'
	hex.Encode(x[14:18], b[6:8])
	x[18] = '-'
	hex.Encode(x[19:23], b[8:10])
	x[23] = '-'
	hex.Encode(x[24:36], b[10:16])
	return string(x[:])
}
