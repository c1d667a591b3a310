// Package store defines the storage interface under the solo shim stub: a
// per-channel, versioned key-value state with conditional (MVCC-validated)
// atomic commits and a durable, ordered chaincode-event log.
//
// The solo runner executes a chaincode transaction against a Reader, collects
// what it read (keys with the versions it saw, and the ranges it scanned) and
// what it wants to write into a Batch, and hands that Batch to Store.Commit.
// The store — not the process — decides whether the transaction still holds:
// if any version it read changed, or any range it scanned now returns
// different keys or versions (a phantom), Commit fails with ErrConflict and
// writes nothing. Because validation happens at the store, several solo
// processes may share one store (for instance one CouchDB) without trusting
// one another's memory.
//
// # Keys
//
// Keys are non-empty, valid UTF-8 strings. They are ordered by their bytes
// (Go string comparison), exactly as Fabric's LevelDB state orders them. Keys
// that implementations must store and order correctly include:
//   - composite keys, which start with "\x00" and use "\x00" as separator,
//   - keys starting with "_" (reserved in CouchDB document ids),
//   - non-ASCII keys and keys containing U+10FFFF (Fabric's range-end marker).
//
// An implementation whose native order differs from byte order (CouchDB's
// _all_docs uses Unicode collation) must map keys so that byte order holds.
//
// # Versions
//
// Every stored key carries a Version, an opaque string that changes every
// time a committed transaction writes the key. Callers only compare versions
// for equality. The empty Version means "absent".
//
// # Implementations
//
// solo/memstore (memory), solo/pebblestore (embedded Pebble database, the
// default) and solo/couchstore (CouchDB). All pass the conformance suite in
// solo/store/storetest.
package store

import (
	"context"
	"errors"
)

// ErrConflict is returned (wrapped) by Store.Commit when the batch's read set
// or range reads no longer match the committed state. Nothing was written.
// Test with errors.Is.
var ErrConflict = errors.New("store: mvcc read conflict")

// ErrClosed is returned (wrapped) by any operation on a closed Store or Reader.
var ErrClosed = errors.New("store: closed")

// ErrUnavailable is returned (wrapped) when the store's backend cannot be
// reached or failed transiently (a CouchDB server down, a connection reset).
// The operation may be retried. From Commit it means that nothing of the
// batch was committed, unless the error also wraps ErrOutcomeUnknown.
var ErrUnavailable = errors.New("store: backend unavailable")

// ErrOutcomeUnknown is returned (wrapped, together with ErrUnavailable) by
// Commit when the backend failed after the commit point may have been
// reached: the batch is either entirely committed or entirely absent, and
// the store cannot tell which yet. The store resolves it when the backend is
// back; a caller that retries must be ready to find its writes there.
var ErrOutcomeUnknown = errors.New("store: commit outcome unknown")

// Version identifies one committed state of a key. It is opaque: callers
// compare versions for equality only. The empty Version means the key is
// absent. Implementations choose the representation (a commit sequence
// number, a CouchDB revision, ...) but a version must never be reused for a
// different committed value of the same key, including after delete and
// re-create.
type Version string

// KV is one key as read from the store.
type KV struct {
	Key string
	// Value is the stored value; nil when the key is absent.
	Value []byte
	// Version is the key's current version; "" when the key is absent.
	Version Version
}

// KeyVersion is a key and the version a transaction observed for it
// ("" = observed absent).
type KeyVersion struct {
	Key     string
	Version Version
}

// RangeRead records one range scan a transaction performed, for phantom
// detection. At commit, the store re-scans [Start, End) and the batch
// conflicts unless the scan returns exactly Results: the same keys, in the
// same order, with the same versions.
//
// The caller narrows End to what it actually consumed: if the transaction
// stopped iterating early, End is the last key it read followed by "\x00"
// (so keys after the last consumed one do not cause conflicts), as Fabric
// does for iterators that were not exhausted.
type RangeRead struct {
	Start string
	// End is exclusive; "" means unbounded.
	End     string
	Results []KeyVersion
}

// Write is one buffered write of a transaction.
type Write struct {
	Key string
	// Value is the new value; ignored when Delete is true.
	Value []byte
	// Delete removes the key. Deleting an absent key is not an error.
	Delete bool
}

// Event is one entry of a channel's event log: the chaincode event of one
// committed transaction.
type Event struct {
	// Seq is the event's position in the channel's log, assigned by the store
	// at commit (ignored in Batch.Event). Positions start at 1 and strictly
	// increase in commit order; readers resume "after" a Seq they have seen.
	Seq uint64
	// TxID is the id of the transaction that emitted the event.
	TxID    string
	Name    string
	Payload []byte
}

// Batch is one transaction's commit request: what it read (to be validated)
// and what it writes (to be applied atomically with its event).
type Batch struct {
	// TxID identifies the transaction (used in errors and in Event.TxID).
	TxID string
	// Reads are the point reads to validate: each key's current version must
	// equal the recorded one ("" = must still be absent).
	Reads []KeyVersion
	// Ranges are the range scans to re-validate (phantom detection).
	Ranges []RangeRead
	// Writes are applied in order if validation succeeds. Keys are unique
	// within one batch.
	Writes []Write
	// Event, if not nil, is appended to the channel's event log in the same
	// atomic step as Writes. Its Seq is assigned by the store.
	Event *Event
	// Snapshot is the number of the snapshot every read of Reads and Ranges
	// was made on (Reader.Snapshot), or 0 when unknown. A store that knows
	// which keys were written after that snapshot may validate the batch
	// from that knowledge instead of re-reading the state; a wrong number
	// makes validation wrong, so only set what the Reader reported.
	Snapshot uint64
}

// Reader reads the committed state. Implementations should give a
// consistent snapshot (all reads see the state as of Store.Begin); those that
// cannot (CouchDB) read the live state, which is still correct for update
// transactions because Commit validates every version read. Readers are not
// required to be safe for concurrent use. A Reader must be closed, and
// closed before the same goroutine calls Store.Commit (an embedded store may
// need open readers to finish before it can commit).
type Reader interface {
	// Get returns key's value and version; an absent key gives
	// KV{Key: key} and a nil error.
	Get(ctx context.Context, key string) (KV, error)
	// GetMany returns one KV per key, in the order of keys (absent keys as in
	// Get).
	GetMany(ctx context.Context, keys []string) ([]KV, error)
	// Scan returns the present keys in [start, end), in byte order, at most
	// limit of them (limit <= 0: no limit). end == "" means unbounded.
	Scan(ctx context.Context, start, end string, limit int) ([]KV, error)
	// Close releases the reader. Close is idempotent.
	Close() error
	// Snapshot returns the number of the consistent snapshot of the
	// committed state that the Reader reads. Numbers grow with commits; 0
	// means the Reader cannot tell (a store that reads the live state, or
	// one that does not number its commits). The number stays readable
	// after Close, so that the transaction can put it in its Batch.
	Snapshot() uint64
}

// Store is the state and event log of one channel. All methods are safe for
// concurrent use.
type Store interface {
	// Begin opens a Reader on the committed state.
	Begin(ctx context.Context) (Reader, error)

	// Commit validates b against the committed state and, if every read and
	// range read still holds, applies b.Writes and appends b.Event
	// atomically and durably: once Commit returns nil, the batch survives a
	// crash of the process (kill -9); if Commit returns an error or the
	// process dies before it returns, either all of the batch is committed
	// or none of it is. A failed validation returns an error wrapping
	// ErrConflict and writes nothing. Implementations may serialize the
	// validate-and-apply step and may group concurrent commits into one
	// durable write (group commit); each caller still learns its own result.
	// A batch with no writes and no event is only validated.
	Commit(ctx context.Context, b *Batch) error

	// ReadEvents returns the events with Seq > after, in order, at most
	// limit of them (limit <= 0: no limit).
	ReadEvents(ctx context.Context, after uint64, limit int) ([]Event, error)

	// WaitEvents blocks until the log holds an event with Seq > after, then
	// returns nil; or returns ctx.Err() when ctx is done, or ErrClosed when
	// the store is closed. It must not poll with sleeps when the commit
	// happens in the same process: commits wake waiters.
	WaitEvents(ctx context.Context, after uint64) error

	// Close releases the store. Pending Commit calls either finish or fail;
	// later calls fail with ErrClosed. Close is idempotent.
	Close() error
}

// Opener opens the Store of a channel. Opening a channel that was opened
// and closed before, with the same Opener configuration, gives back its
// committed state (for memory stores: within the life of the Opener).
type Opener interface {
	Open(ctx context.Context, channel string) (Store, error)
}

// OpenerFunc adapts a function to the Opener interface.
type OpenerFunc func(ctx context.Context, channel string) (Store, error)

// Open calls f(ctx, channel).
func (f OpenerFunc) Open(ctx context.Context, channel string) (Store, error) {
	return f(ctx, channel)
}
