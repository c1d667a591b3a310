package ledger

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fedchain/orchestrator/protos"
)

// The task reads answer from the stored bytes: a task's record is the
// deterministic encoding of the ComputeTask as registered, and the Go
// protobuf runtime writes a message's fields in number order (ComputeTask
// has no oneof), so the task as it is now is the record with its status
// field (number 8, one tag byte and one value byte) rewritten. A page of
// QueryTasks is then a QueryTasksResponse written field by field: each
// task is its tag, its length and its encoding, and the page token comes
// last. The result is the very encoding that decoding the records, setting
// their statuses and marshalling the response would give; the tests check
// it against that on every filter.
//
// Field numbers of the messages written here, as computetask.proto states
// them (TestTaskCodecFields checks them against the descriptors).
const (
	ctFieldPlan      protowire.Number = 5
	ctFieldStatus    protowire.Number = 8
	ctFieldWorker    protowire.Number = 9
	ctFieldFunction  protowire.Number = 20
	ctPageFieldTasks protowire.Number = 1
	ctPageFieldToken protowire.Number = 2
)

// ctView is what a task read needs of a stored record, found without
// decoding it: the attributes a filter compares (sub-slices of the
// record) and where the status field is.
type ctView struct {
	plan, worker, function []byte
	// status is the status in the record (as registered).
	status protos.ComputeTaskStatus
	// statusAt and statusEnd delimit the record's status field, tag
	// included; when it has none, both are where it goes (before the
	// first field of a higher number).
	statusAt, statusEnd int
}

// errTaskRecord reports a record that is no sequence of well-formed
// fields.
var errTaskRecord = errors.New("malformed compute task record")

// ctViewRecord reads the top-level fields of a task record, skipping the
// contents of the others.
func ctViewRecord(rec []byte) (ctView, error) {
	v := ctView{statusAt: -1}
	for off := 0; off < len(rec); {
		num, typ, n := protowire.ConsumeTag(rec[off:])
		if n < 0 {
			return ctView{}, errTaskRecord
		}
		start := off
		off += n
		if num > ctFieldStatus && v.statusAt < 0 {
			v.statusAt, v.statusEnd = start, start
		}
		switch {
		case typ == protowire.BytesType && (num == ctFieldPlan || num == ctFieldWorker || num == ctFieldFunction):
			b, m := protowire.ConsumeBytes(rec[off:])
			if m < 0 {
				return ctView{}, errTaskRecord
			}
			off += m
			switch num {
			case ctFieldPlan:
				v.plan = b
			case ctFieldWorker:
				v.worker = b
			default:
				v.function = b
			}
		case typ == protowire.VarintType && num == ctFieldStatus:
			x, m := protowire.ConsumeVarint(rec[off:])
			if m < 0 {
				return ctView{}, errTaskRecord
			}
			off += m
			v.status = protos.ComputeTaskStatus(int32(x))
			v.statusAt, v.statusEnd = start, off
		default:
			m := protowire.ConsumeFieldValue(num, typ, rec[off:])
			if m < 0 {
				return ctView{}, errTaskRecord
			}
			off += m
		}
	}
	if v.statusAt < 0 {
		v.statusAt, v.statusEnd = len(rec), len(rec)
	}
	return v, nil
}

// ctStatusFieldSize is the size of the status field of a task in status
// st (none for the zero value, which proto3 does not encode).
func ctStatusFieldSize(st protos.ComputeTaskStatus) int {
	if st == 0 {
		return 0
	}
	return protowire.SizeTag(ctFieldStatus) + protowire.SizeVarint(uint64(int64(st)))
}

// ctTaskSize is the size of the encoding of the task of record rec (seen
// as v) in status st.
func ctTaskSize(rec []byte, v *ctView, st protos.ComputeTaskStatus) int {
	return len(rec) - (v.statusEnd - v.statusAt) + ctStatusFieldSize(st)
}

// ctAppendTask appends to dst the encoding of the task of record rec (seen
// as v) in status st.
func ctAppendTask(dst, rec []byte, v *ctView, st protos.ComputeTaskStatus) []byte {
	dst = append(dst, rec[:v.statusAt]...)
	if st != 0 {
		dst = protowire.AppendTag(dst, ctFieldStatus, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(int64(st)))
	}
	return append(dst, rec[v.statusEnd:]...)
}

// ctCurrentStatus is the status of a task whose record reads as v and
// whose status entry (nil when its status never changed) is entry.
func ctCurrentStatus(v *ctView, entry []byte) (protos.ComputeTaskStatus, error) {
	if entry == nil {
		return v.status, nil
	}
	return ctParseStatus(entry)
}

// errStatusEntry reports a status entry that is not what ctStatus writes.
var errStatusEntry = errors.New("malformed compute task status entry")

// ctParseStatus reads a status entry: the enum number in decimal (ctStatus).
func ctParseStatus(b []byte) (protos.ComputeTaskStatus, error) {
	if len(b) == 0 || len(b) > 9 {
		return 0, errStatusEntry
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errStatusEntry
		}
		n = n*10 + int(c-'0')
	}
	return protos.ComputeTaskStatus(n), nil
}

// ctPage is a QueryTasksResponse being written: tasks, then the token.
type ctPage struct {
	buf []byte
	n   int
}

// add appends the task of record rec (seen as v) in status st.
func (p *ctPage) add(rec []byte, v *ctView, st protos.ComputeTaskStatus) {
	p.buf = protowire.AppendTag(p.buf, ctPageFieldTasks, protowire.BytesType)
	p.buf = protowire.AppendVarint(p.buf, uint64(ctTaskSize(rec, v, st)))
	p.buf = ctAppendTask(p.buf, rec, v, st)
	p.n++
}

// finish appends the next page token, if any, and returns the encoding.
func (p *ctPage) finish(next string) []byte {
	if next != "" {
		p.buf = protowire.AppendTag(p.buf, ctPageFieldToken, protowire.BytesType)
		p.buf = protowire.AppendString(p.buf, next)
	}
	return p.buf
}
