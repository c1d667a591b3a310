// Package txoption holds the method option (fedchain.txoption.kind) that every
// rpc of the orchestrator API carries, saying how the facade runs it: SUBMIT
// (a transaction that changes the ledger), EVALUATE (a read-only query) or
// STREAM (a server stream of events). The option lives in the descriptors
// only; it is not part of the wire.
//
// txoption.pb.go is generated from txoption.proto. MethodKind reads the option
// from a method descriptor; ContractName and TransactionName give the names
// under which the chaincode serves a service and a method.
package txoption
