// Command protoc-gen-facade is a protoc plugin that writes the orchestrator's
// gRPC facade: for every service of the input files, a server that runs each
// unary method as one contract transaction through a facade.Invoker.
//
// Usage (from the repository root, with protos/ as the include path):
//
//	protoc -I protos \
//		--plugin=protoc-gen-facade=.bin/protoc-gen-facade \
//		--facade_out=facade \
//		--facade_opt=package=github.com/fedchain/orchestrator/facade \
//		protos/*.proto
//
// The parameter package (required) is the Go import path of the facade
// package; the generated files belong to it, and the hand-written part of
// that package must provide what they use: Invoker, Transaction, TxKind
// (Submit, Evaluate) and the functions submit and evaluate. The usual
// protogen parameters (M<file>=<go import path>, paths=, module=) are
// accepted too; the generated file names have no directory.
//
// Every method must carry the option (fedchain.txoption.kind) of
// protos/txoption. For a service FooService (file foo.proto, proto package
// orchestrator) the plugin writes foo_server.gen.go with:
//
//   - type FooServer, implementing <protos>.FooServiceServer, and
//     NewFooServer(inv Invoker[, streams FooStreams]);
//   - for each SUBMIT or EVALUATE unary method M, a method that marshals the
//     request, calls submit or evaluate with the transaction name
//     "orchestrator.foo:M" (txoption.TransactionName) and unmarshals the
//     result into the response;
//   - when the service has STREAM methods (server streaming only), an
//     interface FooStreams with those methods, which NewFooServer requires:
//     they are written by hand, and a server without them does not compile.
//
// Once per run it also writes register.gen.go with RegisterAll, which
// registers a server for every service on a grpc.ServiceRegistrar; Streams,
// the union of the streaming interfaces; and Transactions, every transaction
// with its kind and gRPC method, sorted by name.
//
// With the parameters contracts=<Go import path of the contracts folder> and
// ledger=<Go import path of the ledger package> instead of package, the
// plugin writes the contract side of the same services (protoc's output
// folder being that contracts folder). For FooService it writes
// foo/contract.gen.go in package foo (the last element of the contract name
// "orchestrator.foo"):
//
//   - the constant ContractName, the type Contract and its constructor New
//     (set up for the ledger), and GetEvaluateTransactions listing the
//     EVALUATE methods;
//   - rpcRules, the interface of the hand-written rules: for each unary
//     method M(Req) returns (Res), a method m (M with a lower-case first
//     letter, so that the contract API does not export it) of signature
//     m(l *ledger.Tx, req *Req) (rpc.Response[*Res], error), where rpc is
//     the package <contracts>/rpc; a missing rule, or one with other types,
//     does not compile;
//   - for each unary method M, the transaction itself: the exported method
//     M(ctx, req []byte) ([]byte, error), which decodes the request
//     (rpc.Decode), runs m on ledger.From(ctx) and encodes its response.
//
// Once per run it writes chaincode/rpcs.gen.go: contractSet, one instance
// of every contract with their list and the table of their transactions
// by name ("orchestrator.foo:M"), which the chaincode calls directly; and
// protoRPCs, every contract's transactions and kinds, against which the
// chaincode checks the contracts it assembles. The hand-written part of the
// chaincode package provides the types these use: contract (a contract),
// txFunc (a transaction) and rpc (a transaction's name and kind).
//
// The output depends only on the descriptors (not on comments, protoc version
// or time): the same input gives the same bytes. The plugin fails, naming the
// method, when a method has no kind, a unary method is marked STREAM, or a
// streaming method is not a server stream marked STREAM, and, for the
// contract side, when a rule's name would be a Go keyword.
package main

import (
	"errors"
	"flag"

	"google.golang.org/protobuf/compiler/protogen"
)

func main() {
	var p params
	p.options().Run(func(gen *protogen.Plugin) error {
		return p.generate(gen)
	})
}

// params are the plugin's own parameters.
type params struct {
	pkg       string // package=<Go import path of the facade package>
	contracts string // contracts=<Go import path of the contracts folder>
	ledger    string // ledger=<Go import path of the ledger package>
}

// generate writes the facade, or with contracts= the contract side.
func (p *params) generate(gen *protogen.Plugin) error {
	if p.contracts == "" {
		return generate(gen, protogen.GoImportPath(p.pkg))
	}
	if p.pkg != "" || p.ledger == "" {
		return errors.New("with contracts=<import path> give ledger=<import path of the ledger package> and no package=")
	}
	return generateContracts(gen, protogen.GoImportPath(p.contracts), protogen.GoImportPath(p.ledger))
}

// options returns protogen options that parse the plugin parameter into p.
func (p *params) options() protogen.Options {
	flags := flag.NewFlagSet("protoc-gen-facade", flag.ContinueOnError)
	flags.StringVar(&p.pkg, "package", "", "Go import path of the facade package")
	flags.StringVar(&p.contracts, "contracts", "", "Go import path of the contracts folder (writes the contract side)")
	flags.StringVar(&p.ledger, "ledger", "", "Go import path of the ledger package (with contracts=)")
	return protogen.Options{ParamFunc: flags.Set}
}
