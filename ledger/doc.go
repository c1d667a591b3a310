// Package ledger is the typed state access of the orchestrator contracts.
// It sees nothing but shim.ChaincodeStubInterface, so the same code runs on
// a Fabric peer and in solo.
//
// # One transaction, one Tx
//
// A contract function gets the ledger view of its transaction with
// From(ctx). A *Tx is a shim.ChaincodeStubInterface that wraps the
// transaction's stub:
//
//   - reads (GetState, GetMultipleStates) see the transaction's own earlier
//     writes, which the peer's stub does not, and a key is read from the
//     stub at most once (GetMultipleStatesUncached, for large one-off
//     batches, reads without keeping what it read);
//   - writes are buffered, then handed to the stub in key order inside one
//     write batch (StartWriteBatch/FinishWriteBatch) when the transaction
//     is flushed;
//   - unpaginated scans merge the buffered writes into their results;
//   - events (Emit) are buffered too.
//
// Contracts built with Configure use Context as transaction context and
// AfterTransaction as after-transaction hook, which flushes the Tx when the
// contract function succeeded. A function that returns an error leaves
// nothing in the stub.
//
// # Assets and indexes
//
// The asset of Kind k with key K is stored, as deterministic binary proto,
// at the composite key (k.Object, K); Get, Lookup, GetMany, Exists and Put
// read and write it. SharedFunction reads a function like Get but
// decodes each distinct record once per process: the functions it returns
// are shared between transactions and must not be modified. Every list
// query is served by composite-key indexes that the ledger maintains when
// the contracts write through it: entries whose attributes end with the
// sort attributes and the asset key, holding a one-byte value (the peer
// treats an empty value as a deletion). Update transactions scan them
// unpaginated; list queries, which run as evaluate transactions, page
// through them with paginated scans and opaque page tokens. The key
// layouts, indexes and pagination are the package's own: its exported
// names are the typed reads and writes the contracts call.
// No rich (CouchDB) query is ever used.
//
// # Events
//
// Emit gives an event its id (derived from the transaction id and its rank),
// the channel and the transaction timestamp. At flush, each event is stored
// under a simple key ordered by time, with two index entries: one in
// descending time order and one under its asset key (the asset and event
// kinds end all three keys, so kind filters need no index of their own, and
// an index entry's key gives back the event's key, so it holds no value).
// All of them are published, in order, as the one chaincode event of the
// transaction, in the framing of protos/eventwire (ChaincodeEventName,
// each event varint-length-delimited). QueryEvents pages through the stored events.
//
// # Compute tasks
//
// Tasks are the bulk of the state, so their layout is frugal. A task's
// record is written once, at registration; a status change writes only the
// new status, under its own key, and moves the three index entries that hold
// the status. A task event (EmitComputeTask) is published whole, but stored
// as a reference (the task's key and status) that QueryEvents resolves
// against the record. GetComputeTask(s) and GetComputeTaskRaw put the
// record and the status back together; GetComputeTaskRaw and
// QueryComputeTaskPage do it on the bytes, rewriting the record's status
// field, and write a QueryTasks page from the records without decoding
// them (computetask_codec.go).
//
// # Errors
//
// Functions return *orcerr.Error: OE0002 for a missing asset ("data manager
// K not found"), OE0007 for a stub failure, OE0003 for a bad page token.
package ledger
