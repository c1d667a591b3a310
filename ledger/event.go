package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

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
	ts, err := l.Now()
	if err != nil {
		return err
	}
	ev.Id = EventID(l.GetTxID(), len(l.events))
	ev.Channel = l.GetChannelID()
	ev.Timestamp = ts
	b, err := marshal(ev)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	l.events = append(l.events, ev)
	l.encoded = append(l.encoded, b)
	return nil
}

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
	h := sha256.Sum256([]byte(txID + "\x00" + strconv.Itoa(n)))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
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
		primary := allAsc + string(appendKinds(asc, ev))
		if err := l.PutState(primary, l.encoded[n]); err != nil {
			return err
		}
		ref := []byte(primary)
		key := byKey + ev.GetAssetKey() + "\x00"
		for _, e := range [...]string{allDesc + string(desc), key + "a\x00" + string(asc), key + "d\x00" + string(desc)} {
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
