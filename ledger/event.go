package ledger

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

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
	return l.queue(ev, b, nil)
}

// queue adds the event ev, encoded as b, to the transaction's; the state
// keeps its body (eventBody), with ref in place of its compute task if
// ref is not nil.
func (l *Tx) queue(ev *protos.Event, b, ref []byte) error {
	body, err := eventBody(b, ref)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	l.events = append(l.events, ev)
	l.encoded = append(l.encoded, b)
	l.bodies = append(l.bodies, body)
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
	return l.queue(ev, b, nil)
}

// EmitComputeTask is EmitEncoded for an event about a compute task stored
// by this ledger (ev.Asset is the task, task its deterministic encoding as
// it is now). What the chaincode publishes is the same as EmitEncoded's,
// but the state keeps the event with a reference in place of the task:
// the task's status (its key is the event's asset key). A task's record
// never changes after registration, so the record and that status give
// back the task as it was (resolveEvents).
func (l *Tx) EmitComputeTask(ev *protos.Event, task []byte) error {
	t := ev.GetComputeTask()
	if t == nil {
		return orcerr.New(orcerr.Internal, "event of asset kind %s holds no compute task", ev.GetAssetKind())
	}
	if t.GetKey() != ev.GetAssetKey() {
		return orcerr.New(orcerr.Internal, "event about compute task %s has asset key %s", t.GetKey(), ev.GetAssetKey())
	}
	if err := l.stamp(ev); err != nil {
		return err
	}
	b, err := encodeEvent(ev, task)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	ref, err := Marshal(&protos.ComputeTask{Status: t.GetStatus()})
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode event")
	}
	return l.queue(ev, b, ref)
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
