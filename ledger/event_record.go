package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// A log entry (eventLogKey) holds what the state keeps of a transaction's
// events, in emission order:
//
//	version byte (eventLogVersion)
//	transaction id: 1, 32 bytes (64 lower-case hex digits) | 0, uvarint length, bytes
//	timestamp: uvarint seconds, uvarint nanos
//	uvarint event count, then for each event:
//	  uvarint asset kind, uvarint event kind
//	  asset key: 1, 16 bytes (a UUID) | 0, uvarint length, bytes
//	  uvarint length, body
//
// The body is the event's protobuf encoding without the fields the entry
// gives for all of them (id, derived from the transaction id and rank;
// channel, the channel's; timestamp) or that precede it (asset key and
// kinds): its metadata and its asset, where a compute task's asset is only
// a reference (a task holding only its status; see EmitComputeTask). A
// 50-task registration stores about 25 bytes per event.
const eventLogVersion = 1

// eventHeadFields is the highest Event field number the body leaves out.
const eventHeadFields = 6

// eventBody returns the body of the event whose encoding is b: its fields
// after eventHeadFields, with the compute task field replaced by ref when
// ref is not nil.
func eventBody(b, ref []byte) ([]byte, error) {
	// Deterministic encodings put the head fields first: the body is then
	// the encoding's tail, or that tail with the task replaced.
	tail, whole := -1, b
	var out []byte
	for off := 0; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		keep := num > eventHeadFields && (ref == nil || num != eventTaskField)
		switch {
		case keep && tail < 0 && out == nil:
			tail = off
		case !keep && tail >= 0:
			// A field to drop after kept ones: copy what is kept.
			out = append(make([]byte, 0, len(whole)), whole[tail:off]...)
			tail = -1
		case keep && out != nil:
			out = append(out, b[:n+m]...)
		}
		off += n + m
		b = b[n+m:]
	}
	if out == nil && tail >= 0 {
		if ref == nil {
			return whole[tail:], nil
		}
		out = append(make([]byte, 0, len(whole)-tail+len(ref)+4), whole[tail:]...)
	}
	if ref != nil {
		out = protowire.AppendTag(out, eventTaskField, protowire.BytesType)
		out = protowire.AppendBytes(out, ref)
	}
	return out, nil
}

// eventTaskField is the number of Event's compute_task field.
var eventTaskField = (&protos.Event{}).ProtoReflect().Descriptor().Fields().ByName("compute_task").Number()

// appendEventLog appends the log entry of the events of transaction txID
// at ts, whose bodies are bodies.
func appendEventLog(b []byte, txID string, ts *timestamppb.Timestamp, evs []*protos.Event, bodies [][]byte) []byte {
	b = append(b, eventLogVersion)
	if id, err := hex.DecodeString(txID); err == nil && len(id) == 32 && hex.EncodeToString(id) == txID {
		b = append(b, 1)
		b = append(b, id...)
	} else {
		b = append(b, 0)
		b = binary.AppendUvarint(b, uint64(len(txID)))
		b = append(b, txID...)
	}
	b = binary.AppendUvarint(b, uint64(ts.GetSeconds()))
	b = binary.AppendUvarint(b, uint64(ts.GetNanos()))
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for i, ev := range evs {
		b = binary.AppendUvarint(b, uint64(ev.GetAssetKind()))
		b = binary.AppendUvarint(b, uint64(ev.GetEventKind()))
		var u [16]byte
		if parseUUID(ev.GetAssetKey(), &u) {
			b = append(b, 1)
			b = append(b, u[:]...)
		} else {
			b = append(b, 0)
			b = binary.AppendUvarint(b, uint64(len(ev.GetAssetKey())))
			b = append(b, ev.GetAssetKey()...)
		}
		b = binary.AppendUvarint(b, uint64(len(bodies[i])))
		b = append(b, bodies[i]...)
	}
	return b
}

// eventLog reads a log entry.
type eventLog struct {
	key   string
	txID  string
	ts    *timestamppb.Timestamp
	count int
	rest  []byte // the events not read yet
	rank  int    // the rank of the next event
}

// logEvent is one event of a log entry, as stored.
type logEvent struct {
	rank                 int
	assetKind, eventKind uint64
	uuid                 []byte // the asset key's 16 bytes, if a UUID
	rawKey               []byte // else the asset key
	body                 []byte
}

// errLayout reports a log entry this version of the ledger cannot read:
// the state was written by an older one.
func errLayout(key string) error {
	return fmt.Errorf("event log entry %q is not in the layout of this version (%d): the state was written by an older version of the orchestrator", key, eventLogVersion)
}

// parseEventLog reads the header of the log entry b stored at key.
func parseEventLog(key string, b []byte) (*eventLog, error) {
	if len(b) < 2 || b[0] != eventLogVersion {
		return nil, errLayout(key)
	}
	lg := &eventLog{key: key}
	b = b[1:]
	switch b[0] {
	case 1:
		if len(b) < 33 {
			return nil, errLayout(key)
		}
		lg.txID = hex.EncodeToString(b[1:33])
		b = b[33:]
	case 0:
		s, rest, ok := consumeBytes(b[1:])
		if !ok {
			return nil, errLayout(key)
		}
		lg.txID, b = string(s), rest
	default:
		return nil, errLayout(key)
	}
	sec, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errLayout(key)
	}
	b = b[n:]
	nanos, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errLayout(key)
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, errLayout(key)
	}
	lg.ts = &timestamppb.Timestamp{Seconds: int64(sec), Nanos: int32(nanos)}
	lg.count, lg.rest = int(count), b[n:]
	return lg, nil
}

func consumeBytes(b []byte) ([]byte, []byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return nil, nil, false
	}
	return b[n : n+int(l)], b[n+int(l):], true
}

// next reads the next event of the entry; ok is false after the last.
func (lg *eventLog) next() (e logEvent, ok bool, err error) {
	if lg.rank >= lg.count {
		return e, false, nil
	}
	b := lg.rest
	var n int
	e.rank = lg.rank
	if e.assetKind, n = binary.Uvarint(b); n <= 0 {
		return e, false, errLayout(lg.key)
	}
	b = b[n:]
	if e.eventKind, n = binary.Uvarint(b); n <= 0 || len(b) == n {
		return e, false, errLayout(lg.key)
	}
	b = b[n:]
	var good bool
	switch b[0] {
	case 1:
		if len(b) < 17 {
			return e, false, errLayout(lg.key)
		}
		e.uuid, b = b[1:17], b[17:]
		good = true
	case 0:
		e.rawKey, b, good = consumeBytes(b[1:])
	}
	if !good {
		return e, false, errLayout(lg.key)
	}
	if e.body, b, good = consumeBytes(b); !good {
		return e, false, errLayout(lg.key)
	}
	lg.rest = b
	lg.rank++
	return e, true, nil
}

// skipTo reads past the events of rank below rank.
func (lg *eventLog) skipTo(rank int) error {
	for lg.rank < rank {
		if _, ok, err := lg.next(); err != nil || !ok {
			return err
		}
	}
	return nil
}

// assetKey returns the event's asset key.
func (e *logEvent) assetKey() string {
	if e.uuid == nil {
		return string(e.rawKey)
	}
	const hexd = "0123456789abcdef"
	var x [36]byte
	j := 0
	for i, by := range e.uuid {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			x[j] = '-'
			j++
		}
		x[j], x[j+1] = hexd[by>>4], hexd[by&15]
		j += 2
	}
	return string(x[:])
}

// event rebuilds the stored event e of the entry, on channel. A compute
// task's asset is still a reference, for resolveEvents.
func (lg *eventLog) event(e logEvent, channel string) (*protos.Event, error) {
	ev := new(protos.Event)
	if err := proto.Unmarshal(e.body, ev); err != nil {
		return nil, fmt.Errorf("decode event %d of log entry %q: %w", e.rank, lg.key, err)
	}
	ev.Id = eventID(lg.txID, e.rank)
	ev.AssetKey = e.assetKey()
	ev.AssetKind = protos.AssetKind(e.assetKind)
	ev.EventKind = protos.EventKind(e.eventKind)
	ev.Channel = channel
	ev.Timestamp = &timestamppb.Timestamp{Seconds: lg.ts.GetSeconds(), Nanos: lg.ts.GetNanos()}
	return ev, nil
}
