// Package txoption holds the method option (fedchain.txoption.kind) that every
// rpc of the orchestrator API carries, saying how the facade runs it: SUBMIT
// (a transaction that changes the ledger), EVALUATE (a read-only query) or
// STREAM (a server stream of events); and the option (fedchain.txoption.batch)
// of the SUBMIT rpcs that are batch calls, whose encoded request the
// contracts bound before decoding it. The options live in the descriptors
// only; they are not part of the wire.
//
// txoption.pb.go is generated from txoption.proto. MethodKind and IsBatch
// read the options from a method descriptor; ContractName and
// TransactionName give the names under which the chaincode serves a service
// and a method.
package txoption
