package ledger

import (
	"encoding/binary"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// QueryEventsEncoded is QueryEvents that returns the page's encoding, the
// bytes proto.Marshal (deterministic) gives for QueryEvents' answer, built
// from the stored bytes: the events' bodies and the task records are
// copied, not decoded and encoded again (a task's status is written over
// the record's, as computetask_codec.go does for QueryTasks). A page walk is most
// of a QueryEvents' cost, and decoding, allocating and encoding each event
// was most of a walk's.
func (l *Tx) QueryEventsEncoded(param *protos.QueryEventsParam) ([]byte, error) {
	w, err := l.walkEvents(param)
	if err != nil {
		return nil, err
	}
	var keys []string
	seen := map[string]bool{}
	for i := range w.items {
		if it := &w.items[i]; it.e.assetKind == uint64(protos.AssetKind_ASSET_COMPUTE_TASK) {
			if k := it.e.assetKey(); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	var records map[string][]byte
	if len(keys) > 0 {
		if records, err = computeTaskRecords(l, keys); err != nil {
			return nil, err
		}
	}
	var out, ev []byte
	for _, it := range w.items {
		if ev, err = appendPageEvent(ev[:0], it, w.channel, records); err != nil {
			return nil, err
		}
		out = protowire.AppendTag(out, pageEventsField, protowire.BytesType)
		out = protowire.AppendBytes(out, ev)
	}
	if w.next != "" {
		out = protowire.AppendTag(out, pageTokenField, protowire.BytesType)
		out = protowire.AppendString(out, w.next)
	}
	return out, nil
}

// The field numbers of QueryEventsResponse, Event and Timestamp that the
// page writes (TestQueryEventsEncoded compares it with proto.Marshal).
const (
	pageEventsField = 1 // QueryEventsResponse.events
	pageTokenField  = 2 // QueryEventsResponse.next_page_token

	eventIDField        = 1
	eventAssetKeyField  = 2
	eventAssetKindField = 3
	eventEventKindField = 4
	eventChannelField   = 5
	eventTimeField      = 6
)

// appendPageEvent appends the encoding of the event of it, on channel: its
// head fields, then its body, where a compute task reference is replaced
// by the task's record (from records) with the status it had.
func appendPageEvent(b []byte, it pageItem, channel string, records map[string][]byte) ([]byte, error) {
	lg, e := it.lg, &it.e
	key := e.assetKey()
	b = protowire.AppendTag(b, eventIDField, protowire.BytesType)
	b = protowire.AppendString(b, eventID(lg.txID, e.rank))
	if key != "" {
		b = protowire.AppendTag(b, eventAssetKeyField, protowire.BytesType)
		b = protowire.AppendString(b, key)
	}
	for _, f := range [...]struct {
		num protowire.Number
		v   uint64
	}{{eventAssetKindField, e.assetKind}, {eventEventKindField, e.eventKind}} {
		if f.v != 0 {
			b = protowire.AppendTag(b, f.num, protowire.VarintType)
			b = protowire.AppendVarint(b, f.v)
		}
	}
	if channel != "" {
		b = protowire.AppendTag(b, eventChannelField, protowire.BytesType)
		b = protowire.AppendString(b, channel)
	}
	b = protowire.AppendTag(b, eventTimeField, protowire.BytesType)
	var ts [2 * (1 + binary.MaxVarintLen64)]byte
	t := ts[:0]
	if s := lg.ts.GetSeconds(); s != 0 {
		t = protowire.AppendTag(t, 1, protowire.VarintType)
		t = protowire.AppendVarint(t, uint64(s))
	}
	if n := lg.ts.GetNanos(); n != 0 {
		t = protowire.AppendTag(t, 2, protowire.VarintType)
		t = protowire.AppendVarint(t, uint64(n))
	}
	b = protowire.AppendBytes(b, t)
	if e.assetKind != uint64(protos.AssetKind_ASSET_COMPUTE_TASK) {
		return append(b, e.body...), nil
	}
	// The body of a task event: its metadata, then its task, a reference
	// (only a status) or, for an event stored whole, the task itself.
	body := e.body
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, orcerr.New(orcerr.Internal, "event %d of log entry %q: %v", e.rank, lg.key, protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, body[n:])
		if m < 0 {
			return nil, orcerr.New(orcerr.Internal, "event %d of log entry %q: %v", e.rank, lg.key, protowire.ParseError(m))
		}
		field := body[:n+m]
		body = body[n+m:]
		if num != eventTaskField || typ != protowire.BytesType {
			b = append(b, field...)
			continue
		}
		ref, _ := protowire.ConsumeBytes(field[n:])
		status, isRef, err := taskRef(ref)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "event %d of log entry %q", e.rank, lg.key)
		}
		if !isRef {
			b = append(b, field...)
			continue
		}
		record := records[key]
		if record == nil {
			return nil, orcerr.New(orcerr.Internal, "event %s refers to compute task %s, which is not stored", eventID(lg.txID, e.rank), key)
		}
		v, err := ctViewRecord(record)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", key)
		}
		st := protos.ComputeTaskStatus(int32(status))
		b = protowire.AppendTag(b, eventTaskField, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(ctTaskSize(record, &v, st)))
		b = ctAppendTask(b, record, &v, st)
	}
	return b, nil
}

// taskRef reads the compute task of an event's body: a reference holds
// only a status (see EmitComputeTask), a task stored whole holds more.
func taskRef(b []byte) (status uint64, isRef bool, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, false, protowire.ParseError(n)
		}
		if num != ctFieldStatus || typ != protowire.VarintType {
			return 0, false, nil
		}
		v, m := protowire.ConsumeVarint(b[n:])
		if m < 0 {
			return 0, false, protowire.ParseError(m)
		}
		status, b = v, b[n+m:]
	}
	return status, true, nil
}
