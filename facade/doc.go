// Package facade is the gRPC front of the orchestrator. It holds no business
// logic: every unary rpc of the API becomes one contract transaction, run by
// an Invoker (in-process in solo mode, through a Fabric gateway in fabric
// mode), and the contract's answer or error goes back to the caller.
//
// The servers, one per service of package protos, are generated into the
// *.gen.go files by tools/protoc-gen-facade and must not be edited by hand:
// each method marshals its request, submits or evaluates the transaction
// "orchestrator.<contract>:<Method>" that the method's (fedchain.txoption.kind)
// option names, and unmarshals the result into its response. RegisterAll
// registers them all; Transactions lists every transaction they run.
//
// Streaming methods are not generated. A service that has some takes them at
// construction as an interface (EventStreams for the EventService), so a
// server that lacks one does not compile. NewEventStreams builds the event
// stream from an EventSource.
//
// Errors keep their orchestration kind across the trip: Status maps an
// orcerr kind to its gRPC code (the Substra orchestrator's mapping) with the
// "OExxxx: ..." text as the message; other errors become Canceled,
// DeadlineExceeded, Aborted (ErrConflict), Unavailable (ErrUnavailable) or a
// generic Internal.
//
// The caller's identity (MSP id) and channel travel in the context: the
// server's interceptors set them with WithCaller, invokers read them with
// CallerFrom.
package facade
