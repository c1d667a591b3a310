// Package couchstore is a store.Store on Apache CouchDB 3.x (through kivik),
// so that several solo processes can share one state. It also runs against
// pouchdb-server, which the tests use (scripts/couchdb).
//
// It uses only the documented CouchDB document API: _all_docs (with keys and
// with startkey/endkey), _bulk_docs, single-document PUT, _changes, and
// _find with a selector on _id alone (served from the primary index). No
// design documents, views or Mango indexes are needed.
//
// # Layout
//
// Each channel is one database, named prefix + channel (see WithDBPrefix),
// created on first use. It holds two kinds of documents:
//
//   - "k" + encodeKey(key): the state of one key, {"s": seq, "v": base64}.
//     s is the number of the commit that last wrote the key; the key's
//     store.Version is s in decimal, so a version is never reused, also not
//     after delete and re-create. A deleted key is a CouchDB deletion whose
//     tombstone keeps "s". encodeKey maps bytes to printable ASCII without
//     "_" at the start and keeps byte order, because _all_docs orders ids
//     by code point.
//   - "c" + 20-digit seq: the journal entry of commit seq:
//     {"tx": [txid...], "w": [{"k", "v", "d"}], "e": [{"tx", "n", "p"}], "n"} —
//     the merged write set and the events of one group of transactions,
//     and a random nonce by which the writer recognizes its entry when the
//     answer to its PUT was lost.
//
// # Commit protocol
//
// CouchDB has no multi-document transaction, so a commit is a journal entry
// followed by its application:
//
//  1. Validate the batch (point reads and range re-scans) against the state
//     documents. This process's head H is the last commit it knows to be
//     fully applied. Concurrent Commit calls of one process form a group
//     (group commit): the first caller to get the commit lock takes all
//     waiting batches and validates them in order, each against the state
//     plus the writes of the batches accepted before it; a batch that fails
//     gets ErrConflict alone, the others share one journal entry.
//  2. Create "c"+(H+1) with a PUT without revision. Creating a document is
//     atomic and fails with 409 if it exists, so the journal id is both the
//     atomic commit point and a per-channel commit lock: exactly one process
//     wins seq H+1. On 409 another process committed first: roll forward
//     (below), and go back to 1 against the newer state.
//  3. Apply the write set with _bulk_docs. Each state document is written
//     only if its "s" is lower than the commit's seq, conditionally on the
//     revision that was read; a 409 re-reads and re-decides. So applying is
//     idempotent and any number of processes may apply the same commit, in
//     any interleaving, without moving a key backwards.
//  4. H = H+1; wake local event waiters; every batch of the group returns.
//
// Validation in step 1 saw the state of commit H; creating H+1 succeeded, so
// no other commit came in between: the check and the commit are atomic as a
// whole (optimistic concurrency, like Fabric's MVCC validation). A batch with
// no writes and no event only validates, then checks that "c"+(H+1) does not
// exist.
//
// A commit H+1 is only created by a process that has fully applied H, so at
// any time only the newest journal entry can be unapplied. Rolling forward is
// thus: read the newest journal entry (_all_docs descending, limit 1) and
// apply it (step 3). Open does that, so a process that died between steps 2
// and 3 leaves a commit that the next Open, Commit (through its 409) or
// event read completes: after a crash a batch is either entirely there or
// entirely absent.
//
// # Events
//
// The journal entry is the event log entry: the i-th event (from 0) of
// entry seq has Event.Seq = seq<<16 | (i+1). Positions strictly increase in
// commit order and have gaps, as store.Event allows. ReadEvents
// reads journal entries by id range, through _find with a projection on
// "_id" and "e" so that the write sets stay on the server, in pages no
// larger than its limit needs; it rolls forward first when it sees an entry
// newer than H, so an event is never returned before its writes are visible.
// WaitEvents is woken by local commits, and by a long-poll on _changes
// (filtered to the next journal id) for commits of other processes.
//
// # Reads
//
// Readers read the live state (no snapshot): a reader may see a commit of
// another process half applied. Update transactions stay serializable since
// every version they read is validated at commit; queries may, rarely, see
// a torn state of a concurrent commit. Begin costs no request and does not
// roll forward: the commit of a process that died before applying it stays
// invisible to readers elsewhere until the next Open, Commit or event read
// of the channel completes it.
//
// # Errors and credentials
//
// Credentials go in the URL (http://user:pass@host:5984/). They are sent as
// basic auth and never appear in errors: messages name the server by its
// redacted URL. Every CouchDB or connection failure surfaces as an error
// wrapping kivik's (kivik.HTTPStatus gives the HTTP status), never as an
// empty result.
//
// # Limits
//
// The journal id is a lock only if creating a document is serialized, as on
// a single CouchDB node (any number of processes may share it). A
// multi-node CouchDB cluster accepts concurrent creations of one id through
// different nodes as a conflict instead of a 409, so two processes could
// both win a seq: do not share a channel through several nodes of a
// cluster.
//
// The store relies on two documented CouchDB behaviours that pouchdb-server
// shares: a deletion written through _bulk_docs keeps the body it is given
// (the tombstone's "s"), and a deleted document is re-created by an update
// that names the deletion's revision.
//
// The journal keeps every commit (it is the event log). A write set and its
// event must fit in one CouchDB document (max_document_size, 8 MB by
// default); a group stays under 2 MB. Commits of one channel are serialized
// within a process (grouped) and across processes by the journal id: each
// journal entry costs three round trips (read, journal PUT, _bulk_docs), so
// throughput comes from grouping concurrent transactions.
package couchstore
