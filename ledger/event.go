package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
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
//	event\x00all\x00a\x00<time>\x00<tx id>\x00<n><kinds>      -> the event (binary proto)
//	event\x00all\x00d\x00<rev time>\x00<rev tx id>\x00<rev n><kinds> -> marker
//	event\x00key\x00<asset key>\x00<time>\x00<tx id>\x00<n><kinds> -> marker
//
// <time> is the transaction time in nanoseconds, 20 digits, and <n> the
// event's rank in its transaction, 6 digits; the "d" (descending) entries
// invert time, tx id and rank so that an ascending scan lists them newest
// first. <kinds> is the asset kind and the event kind, 3 digits each, each
// after a U+0000: it follows the rank, so it does not change the order, and
// a filter on either kind is checked on the key without reading the event.
//
// The two index entries hold no copy of the primary key: it is computed
// from theirs (primaryOf), because on Fabric every stored byte is carried,
// validated and compacted by each peer. An asset's events are few, so
// the descending order of one asset's events is the ascending scan
// reversed (queryAssetEventsDesc), which saves a fourth entry per event.
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
	b, err := Marshal(ev)
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

// EmitComputeTask is EmitEncoded for an event about a compute task stored
// by this ledger (ev.Asset is the task, task its deterministic encoding as
// it is now). What the chaincode publishes is the same as EmitEncoded's,
// but the state keeps the event with a reference in place of the task:
// the task's key and status. A task's record never changes after
// registration, so the record and that status give back the task as it was
// (resolveEvents).
func (l *Tx) EmitComputeTask(ev *protos.Event, task []byte) error {
	t := ev.GetComputeTask()
	if t == nil {
		return orcerr.New(orcerr.Internal, "event of asset kind %s holds no compute task", ev.GetAssetKind())
	}
	if err := l.EmitEncoded(ev, task); err != nil {
		return err
	}
	ref, err := Marshal(&protos.ComputeTask{Key: t.GetKey(), Status: t.GetStatus()})
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	compact, err := encodeEvent(ev, ref)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	for len(l.compact) < len(l.events)-1 {
		l.compact = append(l.compact, nil)
	}
	l.compact = append(l.compact, compact)
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
	ev.Id = eventID(l.GetTxID(), len(l.events))
	ev.Channel = l.GetChannelID()
	ev.Timestamp = &timestamppb.Timestamp{Seconds: l.ts.GetSeconds(), Nanos: l.ts.GetNanos()}
	return nil
}

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

// The prefixes of the three entries of an event.
const (
	eventAllAsc  = eventPrefix + "all\x00a\x00"
	eventAllDesc = eventPrefix + "all\x00d\x00"
	eventByKey   = eventPrefix + "key\x00"
)

// eventRankWidth is the number of digits of an event's rank in its
// transaction.
const eventRankWidth = 6

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

// appendEventPos appends the position of the n-th event of transaction
// txID at nanos: <time>\x00<tx id>\x00<n>.
func appendEventPos(b []byte, nanos int64, txID string, n int) []byte {
	b = appendPadded(b, nanos, 20)
	b = append(b, 0)
	b = append(b, txID...)
	b = append(b, 0)
	return appendPadded(b, int64(n), eventRankWidth)
}

// appendEventDescPos appends the inverted position of the n-th event of
// transaction txID at nanos, which sorts newest first.
func appendEventDescPos(b []byte, nanos int64, txID string, n int) []byte {
	b = appendPadded(b, math.MaxInt64-nanos, 20)
	b = append(b, 0)
	b = appendInvertedHex(b, txID)
	b = append(b, 0)
	return appendPadded(b, int64(999999-n), eventRankWidth)
}

// primaryOf returns the primary key of the event whose index entry is key,
// or "" if key is no event index entry. For an entry of the asset index,
// base is its prefix up to the position (eventByKey, asset key, U+0000).
func primaryOf(key, base string) string {
	if rest, ok := strings.CutPrefix(key, base); ok && base != eventAllDesc {
		return eventAllAsc + rest
	}
	rest, ok := strings.CutPrefix(key, eventAllDesc)
	if !ok || len(rest) < 20+1+1+eventRankWidth+kindsLen {
		return ""
	}
	rev, err := strconv.ParseInt(rest[:20], 10, 64)
	if err != nil || rest[20] != 0 {
		return ""
	}
	tail := rest[len(rest)-eventRankWidth-kindsLen:]
	revN, err := strconv.Atoi(tail[:eventRankWidth])
	if err != nil || rest[len(rest)-len(tail)-1] != 0 {
		return ""
	}
	revTx := rest[21 : len(rest)-len(tail)-1]
	b := make([]byte, 0, len(eventAllAsc)+len(rest))
	b = append(b, eventAllAsc...)
	b = appendPadded(b, math.MaxInt64-rev, 20)
	b = append(b, 0)
	b = appendInvertedHex(b, revTx)
	b = append(b, 0)
	b = appendPadded(b, int64(999999-revN), eventRankWidth)
	return string(append(b, tail[eventRankWidth:]...))
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

// DecodeEvents splits the payload of a chaincode event that setChaincodeEvent
// wrote into its events.
func DecodeEvents(payload []byte) ([]*protos.Event, error) {
	var out []*protos.Event
	for b := payload; len(b) > 0; {
		n, l := protowire.ConsumeVarint(b)
		if l < 0 || n > uint64(len(b)-l) {
			return nil, fmt.Errorf("event %d: malformed length prefix", len(out))
		}
		ev := new(protos.Event)
		if err := proto.Unmarshal(b[l:l+int(n)], ev); err != nil {
			return nil, fmt.Errorf("event %d: %w", len(out), err)
		}
		out = append(out, ev)
		b = b[l+int(n):]
	}
	return out, nil
}

// QueryEvents returns a page of the stored events matching the filter, by
// timestamp (then transaction and rank), ascending unless sort is
// DESCENDING. It uses paginated scans: evaluate transactions only.
func (l *Tx) QueryEvents(param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	desc := param.GetSort() == protos.SortOrder_DESCENDING
	var res *protos.QueryEventsResponse
	var err error
	switch {
	case f.GetAssetKey() != "":
		base := eventByKey + f.GetAssetKey() + "\x00"
		start, end := eventWindow(base, f, false)
		if desc {
			res, err = l.queryAssetEventsDesc(base, start, end, param)
		} else {
			res, err = l.pageEvents(base, start, end, param)
		}
	case desc:
		start, end := eventWindow(eventAllDesc, f, true)
		res, err = l.pageEvents(eventAllDesc, start, end, param)
	default:
		start, end := eventWindow(eventAllAsc, f, false)
		res, err = l.pageEvents(eventAllAsc, start, end, param)
	}
	if err != nil {
		return nil, err
	}
	if err := l.resolveEvents(res.Events); err != nil {
		return nil, err
	}
	return res, nil
}

// eventWindow is the key range under base of the events in the filter's
// time window.
func eventWindow(base string, f *protos.EventQueryFilter, desc bool) (start, end string) {
	start, end = base, base+maxRune
	from, to := f.GetStart(), f.GetEnd()
	bound := ascTime
	if desc {
		from, to, bound = to, from, descTime
	}
	if from != nil {
		start = base + bound(from.AsTime().UnixNano())
	}
	if to != nil {
		end = base + bound(to.AsTime().UnixNano()) + "\x01"
	}
	return start, end
}

// pageEvents reads a page of the entries under base in [start, end), in
// key order: the events themselves (eventAllAsc), or index entries whose
// events it loads by chunk.
func (l *Tx) pageEvents(base, start, end string, param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	direct := base == eventAllAsc
	var loaded map[string][]byte
	res := &protos.QueryEventsResponse{}
	p := pager{Token: param.GetPageToken(), Size: int(param.GetPageSize())}
	if !direct {
		p.Load = func(chunk []scanEntry) error {
			var err error
			loaded, err = l.loadEvents(chunk, base, f)
			return err
		}
	}
	p.Keep = func(e scanEntry) (bool, error) {
		if !kindsMatch(e.Key, f) {
			return false, nil
		}
		b := e.Value
		if !direct {
			b = loaded[primaryOf(e.Key, base)]
		}
		return keepEvent(res, b, f)
	}
	next, err := l.pageRange(start, end, p)
	if err != nil {
		return nil, err
	}
	res.NextPageToken = next
	return res, nil
}

// loadEvents reads, in one call, the stored events of the index entries
// under base whose kinds match f, by primary key.
func (l *Tx) loadEvents(entries []scanEntry, base string, f *protos.EventQueryFilter) (map[string][]byte, error) {
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		if kindsMatch(e.Key, f) {
			keys = append(keys, primaryOf(e.Key, base))
		}
	}
	vals, err := l.GetMultipleStates(keys...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read events")
	}
	loaded := make(map[string][]byte, len(keys))
	for i, v := range vals {
		loaded[keys[i]] = v
	}
	return loaded, nil
}

// keepEvent decodes the stored event b and appends it to res if it
// matches f.
func keepEvent(res *protos.QueryEventsResponse, b []byte, f *protos.EventQueryFilter) (bool, error) {
	if b == nil {
		return false, nil
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

// queryAssetEventsDesc lists newest first the events of one asset, whose
// entries under base in [start, end) it reads in ascending order and walks
// back. The page token is the key of the next entry to visit.
func (l *Tx) queryAssetEventsDesc(base, start, end string, param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	size := int(param.GetPageSize())
	if size <= 0 {
		size = defaultPageSize
	}
	if param.GetPageToken() != "" {
		last, err := decodeToken(param.GetPageToken(), start, end)
		if err != nil {
			return nil, err
		}
		end = last + "\x00"
	}
	it, err := l.GetStateByRange(start, end)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	entries, _, err := drain(it, "", false)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	res := &protos.QueryEventsResponse{}
	for hi := len(entries); hi > 0; {
		lo := max(0, hi-scanChunk)
		loaded, err := l.loadEvents(entries[lo:hi], base, f)
		if err != nil {
			return nil, err
		}
		for i := hi - 1; i >= lo; i-- {
			if len(res.Events) == size {
				res.NextPageToken = encodeToken(entries[i].Key)
				return res, nil
			}
			if !kindsMatch(entries[i].Key, f) {
				continue
			}
			if _, err := keepEvent(res, loaded[primaryOf(entries[i].Key, base)], f); err != nil {
				return nil, err
			}
		}
		hi = lo
	}
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

// resolveEvents completes the events read from the state that refer to
// their compute task instead of holding it (EmitComputeTask): a reference
// is a task with no creation date, which every stored task has.
func (l *Tx) resolveEvents(evs []*protos.Event) error {
	var keys []string
	seen := map[string]bool{}
	for _, ev := range evs {
		if t := ev.GetComputeTask(); t != nil && t.GetCreationDate() == nil && !seen[t.GetKey()] {
			seen[t.GetKey()] = true
			keys = append(keys, t.GetKey())
		}
	}
	if len(keys) == 0 {
		return nil
	}
	records, err := computeTaskRecords(l, keys)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		ref := ev.GetComputeTask()
		if ref == nil || ref.GetCreationDate() != nil {
			continue
		}
		b := records[ref.GetKey()]
		if b == nil {
			return orcerr.New(orcerr.Internal, "event %s refers to compute task %s, which is not stored", ev.GetId(), ref.GetKey())
		}
		t := new(protos.ComputeTask)
		if err := proto.Unmarshal(b, t); err != nil {
			return orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", ref.GetKey())
		}
		t.Status = ref.GetStatus()
		ev.Asset = &protos.Event_ComputeTask{ComputeTask: t}
	}
	return nil
}
