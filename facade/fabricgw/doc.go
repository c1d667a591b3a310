// Package fabricgw runs the orchestrator's transactions on a Hyperledger
// Fabric network through a peer's Fabric Gateway (fabric-gateway pkg/client).
//
// A Gateway is the fabric-mode backend of the facade: it is a facade.Invoker
// (Submit endorses, orders and waits for the commit of a transaction;
// Evaluate asks one peer and commits nothing) and the source of the event
// stream (Subscribe reads the orchestrator's chaincode events from the
// channel's blocks). One Gateway acts for one organization: it signs with
// that organization's identity, and refuses callers whose MSP id is another
// organization's.
//
// Reads (Evaluate) and events come from the organization's own peer, and
// Submit returns once that peer committed the transaction: a caller reads
// its own writes. A transaction submitted through another organization's
// peer becomes visible when this peer commits its block, at the same moment
// as its events reach this Gateway's subscribers.
//
// Submit sends its request in compact form (protos/compactwire; plain with
// Config.PlainPayloads, for a chaincode that predates it), which the
// chaincode answers in and sets its chaincode event in: the blocks then
// store a fraction of the bytes of each transaction. Answers and the
// chaincode events of the blocks are read in either form, so a chain that
// holds both (older facades, the peer CLI) streams as one. Evaluate sends
// plain requests: nothing of a read is stored.
//
// Errors come back as the facade expects them: a contract error as an
// *orcerr.Error with the kind and message the chaincode gave (parsed from
// the gateway's endorsement error details), MVCC and phantom read conflicts
// retried a bounded number of times and then reported as facade.ErrConflict,
// and an unreachable peer as facade.ErrUnavailable. A Submit that only
// other organizations' peers refused to endorse (this Gateway's own peer
// endorsed it) is also run again a bounded number of times: those peers
// may not have committed the blocks this peer has, such as the one holding
// the caller's previous transaction.
package fabricgw
