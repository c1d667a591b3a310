package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// EventName is the name of the single chaincode event of a transaction.
const EventName = "orchestrator"

// Events are stored under simple keys (not composite ones) so that a time
// window is a key range:
//
//	event\x00all\x00a\x00<time>\x00<tx id>\x00<n>\x00<kinds>       -> the event (binary proto)
//	event\x00all\x00d\x00<rev time>\x00<rev tx id>\x00<rev n>    -> the key above
//	event\x00key\x00<asset key>\x00{a|d}\x00...                  -> the key above
//
// <time> is the transaction time in nanoseconds, 20 digits; the "d"
// (descending) entries invert time, tx id and counter so that an ascending
// scan lists them newest first. <kinds> is the asset kind and the event
// kind, 3 digits each separated by U+0000: it follows the counter, so it
// does not change the order, and a filter on either kind is checked on the
// key (or on the value of a descending entry) without reading the event.
// The asset key filter has its own entries; a kind filter walks the time
// entries, skipping what does not match, which keeps an event at four
// entries.
const eventPrefix = "event\x00"

// Emit records an event of the transaction. It fills the event's id
// (derived from the transaction id and the event's rank in the
// transaction), channel and timestamp (the transaction's), and encodes it
// at once: changing the event or its asset afterwards changes nothing (a
// task may change again later in the same transaction). Events are stored
// and published, in emission order, when the transaction is flushed.
func (l *Tx) Emit(ev *protos.Event) error {
	if err := l.stamp(ev); err != nil {
		return err
	}
	b, err := marshal(ev)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	l.events = append(l.events, ev)
	l.encoded = append(l.encoded, b)
	return nil
}

// EmitEncoded is Emit for an event whose asset (set in ev.Asset) the
// caller has just encoded deterministically as asset, e.g. to store it: the
// event's encoding embeds those bytes instead of encoding the asset again.
// The stored and published bytes are the same as Emit's.
func (l *Tx) EmitEncoded(ev *protos.Event, asset []byte) error {
	if err := l.stamp(ev); err != nil {
		return err
	}
	b, err := encodeEvent(ev, asset)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	l.events = append(l.events, ev)
	l.encoded = append(l.encoded, b)
	return nil
}

// stamp fills the fields of an event that the transaction decides: id,
// channel and timestamp.
func (l *Tx) stamp(ev *protos.Event) error {
	if l.ts == nil {
		if _, err := l.Now(); err != nil {
			return err
		}
	}
	ev.Id = EventID(l.GetTxID(), len(l.events))
	ev.Channel = l.GetChannelID()
	ev.Timestamp = &timestamppb.Timestamp{Seconds: l.ts.GetSeconds(), Nanos: l.ts.GetNanos()}
	return nil
}

// encodeEvent returns marshal(ev) given asset, the deterministic encoding
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
		return marshal(ev)
	}
	held := ev.Asset
	ev.Asset = nil
	b, err := marshal(ev)
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

// EmitAsset is Emit for an event about one asset: kind, asset kind, asset
// key and the asset itself (set into the event's oneof by set, e.g.
// func(e *protos.Event) { e.Asset = &protos.Event_Function{Function: f} }).
func (l *Tx) EmitAsset(kind protos.EventKind, assetKind protos.AssetKind, assetKey string, set func(*protos.Event)) error {
	ev := &protos.Event{EventKind: kind, AssetKind: assetKind, AssetKey: assetKey}
	if set != nil {
		set(ev)
	}
	return l.Emit(ev)
}

// Events returns the events emitted so far by the transaction (as passed
// to Emit: what is stored and published is their encoding at Emit time).
func (l *Tx) Events() []*protos.Event { return l.events }

// EventID returns the id of the n-th event (from 0) of transaction txID: a
// UUID (RFC 9562 version 8 layout) made of the SHA-256 of both.
func EventID(txID string, n int) string {
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

// appendPadded appends v in decimal, left-padded with zeros to width
// digits (v must be non-negative).
func appendPadded(b []byte, v int64, width int) []byte {
	var d [20]byte
	i := len(d)
	for v > 0 || i == len(d) {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
	}
	for n := len(d) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, d[i:]...)
}

func ascTime(nanos int64) string  { return string(appendPadded(nil, nanos, 20)) }
func descTime(nanos int64) string { return string(appendPadded(nil, math.MaxInt64-nanos, 20)) }

// appendInvertedHex appends s with each hex digit d mapped to f-d, so that
// hex strings sort in reverse; other bytes are kept.
func appendInvertedHex(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c = "fedcba9876"[c-'0']
		case c >= 'a' && c <= 'f':
			c = "543210"[c-'a']
		}
		b = append(b, c)
	}
	return b
}

func eventBase(index, dir string) string {
	return eventPrefix + index + "\x00" + dir + "\x00"
}

// kindsLen is the length of the <kinds> suffix of a primary event key.
const kindsLen = 1 + 3 + 1 + 3

// appendKinds appends the <kinds> suffix of the event's primary key.
func appendKinds(b []byte, ev *protos.Event) []byte {
	b = append(b, 0)
	b = appendPadded(b, int64(ev.GetAssetKind()), 3)
	b = append(b, 0)
	return appendPadded(b, int64(ev.GetEventKind()), 3)
}

// kindsMatch reports whether the primary event key primary is of the
// asset and event kinds f asks for, if any.
func kindsMatch(primary string, f *protos.EventQueryFilter) bool {
	if len(primary) < kindsLen {
		return false
	}
	k := primary[len(primary)-kindsLen:]
	if ak := f.GetAssetKind(); ak != protos.AssetKind_ASSET_UNKNOWN && k[1:4] != string(appendPadded(nil, int64(ak), 3)) {
		return false
	}
	if ek := f.GetEventKind(); ek != protos.EventKind_EVENT_UNKNOWN && k[5:8] != string(appendPadded(nil, int64(ek), 3)) {
		return false
	}
	return true
}

// storeEvents writes the transaction's events and their index entries.
func (l *Tx) storeEvents() error {
	if len(l.events) == 0 {
		return nil
	}
	txID := l.GetTxID()
	const (
		allAsc  = eventPrefix + "all\x00a\x00"
		allDesc = eventPrefix + "all\x00d\x00"
		byKey   = eventPrefix + "key\x00"
	)
	var asc, desc []byte
	var kinds [kindsLen]byte
	for n, ev := range l.events {
		nanos := ev.GetTimestamp().AsTime().UnixNano()
		asc = appendPadded(asc[:0], nanos, 20)
		asc = append(asc, 0)
		asc = append(asc, txID...)
		asc = append(asc, 0)
		asc = appendPadded(asc, int64(n), 6)
		desc = appendPadded(desc[:0], math.MaxInt64-nanos, 20)
		desc = append(desc, 0)
		desc = appendInvertedHex(desc, txID)
		desc = append(desc, 0)
		desc = appendPadded(desc, int64(999999-n), 6)
		// The four keys are cut from one string, and the index entries
		// share one value: an event costs two allocations.
		ak := ev.GetAssetKey()
		var all strings.Builder
		all.Grow(len(allAsc) + len(asc) + kindsLen + len(allDesc) + len(desc) + 2*(len(byKey)+len(ak)+3) + len(asc) + len(desc))
		all.WriteString(allAsc)
		all.Write(asc)
		all.Write(appendKinds(kinds[:0], ev))
		p1 := all.Len()
		all.WriteString(allDesc)
		all.Write(desc)
		p2 := all.Len()
		all.WriteString(byKey)
		all.WriteString(ak)
		all.WriteString("\x00a\x00")
		all.Write(asc)
		p3 := all.Len()
		all.WriteString(byKey)
		all.WriteString(ak)
		all.WriteString("\x00d\x00")
		all.Write(desc)
		keys := all.String()
		primary := keys[:p1]
		if err := l.PutState(primary, l.encoded[n]); err != nil {
			return err
		}
		ref := []byte(primary)
		for _, e := range [...]string{keys[p1:p2], keys[p2:p3], keys[p3:]} {
			if err := l.PutState(e, ref); err != nil {
				return err
			}
		}
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
	if err := l.SetEvent(EventName, payload); err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "set chaincode event")
	}
	return nil
}

// QueryEvents returns a page of the stored events matching the filter, by
// timestamp (then transaction and rank), ascending unless sort is
// DESCENDING. It uses paginated scans: evaluate transactions only.
func (l *Tx) QueryEvents(param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	index := "all"
	if f.GetAssetKey() != "" {
		index = "key\x00" + f.GetAssetKey()
	}
	desc := param.GetSort() == protos.SortOrder_DESCENDING
	dir := "a"
	if desc {
		dir = "d"
	}
	base := eventBase(index, dir)
	start, end := base, base+maxRune
	if desc {
		if f.GetEnd() != nil {
			start = base + descTime(f.GetEnd().AsTime().UnixNano())
		}
		if f.GetStart() != nil {
			end = base + descTime(f.GetStart().AsTime().UnixNano()) + "\x01"
		}
	} else {
		if f.GetStart() != nil {
			start = base + ascTime(f.GetStart().AsTime().UnixNano())
		}
		if f.GetEnd() != nil {
			end = base + ascTime(f.GetEnd().AsTime().UnixNano()) + "\x01"
		}
	}
	direct := index == "all" && !desc
	loaded := map[string][]byte{}
	res := &protos.QueryEventsResponse{}
	p := Pager{Token: param.GetPageToken(), Size: int(param.GetPageSize())}
	if !direct {
		p.Load = func(chunk []Entry) error {
			keys := make([]string, 0, len(chunk))
			for _, e := range chunk {
				if kindsMatch(string(e.Value), f) {
					keys = append(keys, string(e.Value))
				}
			}
			vals, err := l.GetMultipleStates(keys...)
			if err != nil {
				return orcerr.Wrap(orcerr.Internal, err, "read events")
			}
			clear(loaded)
			for i, v := range vals {
				loaded[keys[i]] = v
			}
			return nil
		}
	}
	p.Keep = func(e Entry) (bool, error) {
		b := e.Value
		if direct && !kindsMatch(e.Key, f) {
			return false, nil
		}
		if !direct {
			b = loaded[string(e.Value)]
			if b == nil {
				return false, nil
			}
		}
		ev := new(protos.Event)
		if err := proto.Unmarshal(b, ev); err != nil {
			return false, orcerr.Wrap(orcerr.Internal, err, "decode event")
		}
		if !eventMatches(ev, f) {
			return false, nil
		}
		res.Events = append(res.Events, ev)
		return true, nil
	}
	next, err := l.PageRange(start, end, p)
	if err != nil {
		return nil, err
	}
	res.NextPageToken = next
	return res, nil
}

func eventMatches(ev *protos.Event, f *protos.EventQueryFilter) bool {
	if f == nil {
		return true
	}
	if f.GetAssetKey() != "" && ev.GetAssetKey() != f.GetAssetKey() {
		return false
	}
	if f.GetAssetKind() != protos.AssetKind_ASSET_UNKNOWN && ev.GetAssetKind() != f.GetAssetKind() {
		return false
	}
	if f.GetEventKind() != protos.EventKind_EVENT_UNKNOWN && ev.GetEventKind() != f.GetEventKind() {
		return false
	}
	for k, v := range f.GetMetadata() {
		if got, ok := ev.GetMetadata()[k]; !ok || got != v {
			return false
		}
	}
	t := ev.GetTimestamp().AsTime()
	if f.GetStart() != nil && t.Before(f.GetStart().AsTime()) {
		return false
	}
	if f.GetEnd() != nil && t.After(f.GetEnd().AsTime()) {
		return false
	}
	return true
}
