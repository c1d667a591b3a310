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
// the channel and the transaction timestamp. All of a transaction's events
// are published, in order, as its one chaincode event, in the framing of
// protos/eventwire (ChaincodeEventName, each event
// varint-length-delimited). At flush they are stored together, in one log
// entry under a simple key ordered by time (then by a hash of the
// transaction id), which holds for each event only what the entry does not
// give for all of them (its kinds, asset key, metadata and asset; see
// event_record.go); each event also has one entry in the index of its
// asset, whose key gives back the log entry and the event's rank and whose
// value holds its two kinds, so that kind filters skip it unread.
// QueryEvents pages through the log (ascending, or backwards in time
// windows sized to the page: Fabric has no reverse scan) or through an
// asset's index entries; QueryEventsEncoded writes the same page's
// encoding from the stored bytes, without decoding the events or the
// tasks they refer to.
//
// # Compute tasks
//
// Tasks are the bulk of the state, so their layout is frugal. A task's
// record is written once, at registration; a status change writes only the
// new status, under its own key, and moves the two or three index entries
// that hold the status. A task event (EmitComputeTask) is published whole,
// but stored as a reference (the task's status; its key is the event's
// asset key) that QueryEvents resolves against the record.
// GetComputeTask(s) and GetComputeTaskRaw put the record and the status
// back together; GetComputeTaskRaw and QueryComputeTaskPage do it on the
// bytes, rewriting the record's status field, and write a QueryTasks page
// from the records without decoding them (computetask_codec.go).
//
// # Key bytes
//
// On Fabric every byte of a key or value written is carried in the block
// and validated, stored and compacted by each peer, so keys are short
// (keyenc.go): object names of a few letters, times in 11 characters and
// UUID keys in 22, in a 64-letter alphabet whose order is that of the
// numbers they encode. A 50-task RegisterTasks writes about 930 B per task
// in 8 keys (the record ~460 B, six task index entries ~370 B, the event's
// asset index entry 67 B and its share of the log entry 26 B), where the
// former layout wrote 1,716 B in 11 keys (TestWriteSetBytes in
// solo/solobench measures it). A store written in that former layout is
// refused by the reads that would answer wrongly (layout.go).
//
// # Errors
//
// Functions return *orcerr.Error: OE0002 for a missing asset ("data manager
// K not found"), OE0007 for a stub failure, OE0003 for a bad page token.
package ledger
