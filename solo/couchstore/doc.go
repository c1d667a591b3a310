// Package couchstore is a store.Store on Apache CouchDB 3.x (through kivik),
// so that several solo processes can share one state. Its tests run on
// Apache CouchDB 3.5 (scripts/couchdb/with-couchdb.sh), pouchdb-server only
// as a fallback.
//
// It uses only the documented CouchDB document API: _all_docs (with keys and
// with startkey/endkey), _bulk_docs, single-document PUT, _changes, and
// _find with a selector on _id alone (served from the primary index). No
// design documents, views or Mango indexes are needed.
//
// # Layout
//
// Each channel is two databases, created on first use: the journal,
// named prefix + channel (see WithDBPrefix), and the state, named the same
// plus "$state" (no channel's journal database has a "$"). They are apart
// because a CouchDB database has a single writer: in one database, every
// _bulk_docs of the applier held up the journal PUTs on the callers' path
// for its whole duration. (A journal database that already holds state
// documents, the layout before this one, keeps them: it is then its own
// state database.) They hold two kinds of documents:
//
//   - in the state database, "k" + encodeKey(key): the state of one key,
//     {"s": seq, "v": base64}. s is the number of the commit that last wrote the key; the key's
//     store.Version is s in decimal, so a version is never reused, also not
//     after delete and re-create. A deleted key is a CouchDB deletion whose
//     tombstone keeps "s". encodeKey maps bytes to printable ASCII without
//     "_" at the start and keeps byte order, because _all_docs orders ids
//     by code point.
//   - in the journal database, "c" + 20-digit seq: the journal entry of
//     commit seq:
//     {"tx": [txid...], "w": base64, "e": [{"tx", "n", "p"}], "n", "a"} —
//     the merged write set and the events of one group of transactions,
//     a random nonce by which the writer recognizes its entry when the
//     answer to its PUT was lost, and the writer's applied watermark. The
//     write set is one string, the base64 of a binary record per write
//     (state id, put or delete, value), rather than an object per write,
//     which is what costs CouchDB's CPU in a large entry; entries written
//     before hold [{"k", "v", "d"}] and are still read. (A process of an
//     older version fails on the string instead of reading an entry
//     without writes: upgrade every process of a channel together.)
//
// # Commit protocol
//
// CouchDB has no multi-document transaction, so a commit is a journal entry,
// applied to the state documents afterwards:
//
//  1. Validate the batch against what this process knows as of its head H
//     (the last journal entry it knows): point reads from the cache (below),
//     range reads from the window of recent writes when the batch was read
//     on a snapshot the window covers, else by scanning again. Concurrent
//     Commit calls of one process form a group (group commit): the first
//     caller to get the commit lock takes all waiting batches and validates
//     them in order, each against the state plus the writes of the batches
//     accepted before it; a batch that fails gets ErrConflict alone, the
//     others share one journal entry. Waiting for the lock honours the
//     caller's context.
//  2. Create "c"+(H+1) with a PUT without revision (the body encoded
//     directly, sent through net/http). Creating a document is
//     atomic, durable when answered, and fails with 409 if it exists, so
//     the journal id is both the atomic commit point and a per-channel
//     commit lock: exactly one process wins seq H+1. A process that wins
//     knows that nobody wrote between H and H+1. On 409 another process
//     committed first: read the journal entries after H (their write sets),
//     learn them (below) and go back to 1.
//  3. Learn the entry: its writes become the cache's values and join the
//     overlay of unapplied writes; H = H+1; wake local event waiters; every
//     batch of the group returns. With a warm cache an uncontended commit
//     is thus one request on the caller's path, the PUT.
//  4. Off the caller's path, the applier of the process writes the write
//     sets of the entries it learned, in journal order, to the state
//     documents with _bulk_docs: the entries of the last second together,
//     each document once with its newest value (a key created and deleted
//     within the round not at all), because every state document costs
//     the server CPU that the journal PUTs on the callers' path need.
//     Each state document is written only if its "s" is lower than the
//     entry's seq, conditionally on the revision known for it; a 409
//     re-reads and re-decides. So applying is idempotent and any number of
//     processes may apply the same entries. An entry of another process is
//     left to its writer for three seconds, then applied too (usually
//     finding it done, for the price of one read).
//
// Each journal entry carries its writer's applied watermark "a": every entry
// up to it was applied. Open reads the newest entry, learns every entry
// after its watermark (they may be unapplied: their writer may have died)
// and hands them to its applier; at most maxUnapplied entries (8192) or
// maxUnappliedBytes of write sets (64 MB) of a process wait for its applier
// (a commit waits beyond that), which bounds that work. The bound is far
// above what a burst leaves behind: when it was 256 entries, a benchmark's
// task lifecycle stalled for seconds behind one large application round. So after a kill -9 at any point, a batch is entirely there or
// entirely absent for every process: readers that know an entry see its
// writes through the overlay until they are applied, readers that do not
// know it yet see none of it, or learn it (below) when they meet a state
// document it wrote.
//
// A batch with no writes and no event only validates, then checks that
// "c"+(H+1) does not exist (one request).
//
// # Cache, overlay and learning other processes' commits
//
// The process keeps, for each state document id it met, the key's value as
// of H (and the document's revision, for the applier); the overlay holds the
// newest unapplied write of each key of the entries it learned. A point read
// served by them costs no request; a miss reads the state document, lays the
// overlay over it and caches the result, unless the process learned a newer
// value meanwhile. When the whole state fitted in half the cache at Open
// (or the channel was empty), and nothing was evicted since, the cache holds
// every present key, so a miss is known absent without a request. The cache
// is bounded (WithCacheBytes); an evicted key is simply a cold read again.
// Range scans read the state documents (the cache is not ordered) with the
// overlay laid over, and are repeated when the process learned or applied an
// entry during the scan.
//
// A process learns the entries of other processes from the 409 of its own
// commits, from event reads, and, while it is not committing, from a
// continuous _changes feed filtered to the next 128 journal ids (renewed
// as the head moves). The feed is closed while the process commits (it
// would only echo the process's own entries, each row costing the server
// about a third of a journal PUT's CPU) and opened again, with a catch-up
// read, 50 ms after the process's last journal PUT: a busy process learns
// at each commit every entry written before its own, an idle one learns
// through the feed. A value read from a state document may belong to an
// entry written after H that the process has not learned yet; that is
// harmless for updates (their commit at H+1 meets that entry's 409, learns
// it and validates again), and a query sees such a value, or misses
// another process's commit, at most for the feed's latency when the
// process is idle, and until 50 ms after its last commit otherwise.
//
// Every key's version is the seq of the entry that wrote it, so a version
// read from the cache, the overlay or a document is the same string.
//
// # Events
//
// The journal entry is the event log entry: the i-th event (from 0) of
// entry seq has Event.Seq = seq<<16 | (i+1). Positions strictly increase in
// commit order and have gaps, as store.Event allows. ReadEvents
// reads journal entries by id range, through _find with a projection on
// "_id" and "e" so that the write sets stay on the server, in pages no
// larger than its limit needs; when it sees an entry newer than H it learns
// the entries up to it first, so an event is never returned before its
// writes are visible to this process's readers. WaitEvents is woken by
// commits this process makes or learns, and by a long-poll on _changes
// (filtered to the next journal id).
//
// # Database hygiene
//
// Databases created by the store get _revs_limit 10 (no old revision is
// ever needed). After every 32 MB it writes, a process looks at both
// databases' sizes (GET /db) and starts a compaction of one whose file is
// over twice its live data; CouchDB compacts in the background. While a
// compaction runs (writes go on meanwhile), the process looks again every
// 10 seconds until the file is under the ratio.
//
// Stats counts groups, conflicts, journal PUT time, backlog waits and the
// applier's rounds, for benchmarks.
//
// # Errors and credentials
//
// Credentials go in the URL (http://user:pass@host:5984/). They are sent as
// basic auth and never appear in errors: messages name the server by its
// redacted URL. Every CouchDB or connection failure surfaces as an error
// wrapping kivik's (kivik.HTTPStatus gives the HTTP status), never as an
// empty result; a connection failure or a 5xx also wraps
// store.ErrUnavailable. A journal PUT whose answer was lost is checked by
// reading the entry back (its nonce): committed, taken by another process,
// or absent; when that read fails too, Commit's error also wraps
// store.ErrOutcomeUnknown, and the process resolves it by itself when the
// server is back (its next commit at that seq meets the entry and learns
// it).
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
// CouchDB 3 re-creates a deleted document only from an update without
// revision, which is not conditional. Before re-creating a document that
// another process's entry wrote, or that this process does not know, the
// applier reads it and its tombstone's "s", so a later deletion is not
// undone. The one remaining window: a process whose applier is more than
// three seconds late with its own entry that creates a key, while another
// process, which learned that entry and a later one deleting the key,
// applied both meanwhile; the late re-creation would then bring the key
// back in the state documents (the journal stays right, and so do the
// caches of the running processes; a process that reads the state
// documents later would see the key). A single process, or processes that
// do not create and
// delete the same keys within that time, never meet it.
//
// The journal keeps every commit (it is the event log). A write set and its
// events must fit in one CouchDB document (max_document_size, 8 MB by
// default): a group stays under 2 MB, and a single batch whose entry would
// exceed 8,000,000 bytes is refused up front with a clear error, nothing
// written. Commits of one channel are serialized within a process (grouped)
// and across processes by the journal id, so throughput under concurrency
// comes from grouping.
package couchstore
