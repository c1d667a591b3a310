package main

import (
	"cmp"
	"fmt"
	"go/token"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/fedchain/orchestrator/protos/txoption"
)

var contractapiPkg = protogen.GoImportPath("github.com/hyperledger/fabric-contract-api-go/v2/contractapi")

// contractPkg returns the Go package of the contract that serves s: the
// last element of its contract name ("computetask" for
// "orchestrator.computetask"), which is also its folder under contracts.
func contractPkg(s *service) string {
	name := txoption.ContractName(s.svc.Desc)
	return name[strings.LastIndexByte(name, '.')+1:]
}

// generateContracts writes the contract side of every service of the files
// to generate: for service FooService, <foo>/contract.gen.go in the Go
// package root/<foo>, and once chaincode/rpcs.gen.go in root/chaincode.
// The generated code uses root/rpc (the response type and the request
// decoding) and the ledger package at import path ledger.
func generateContracts(gen *protogen.Plugin, root protogen.GoImportPath, ledger protogen.GoImportPath) error {
	gen.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)
	var all []*service
	pkgs := map[string]string{} // contract package -> proto service
	for _, f := range gen.Files {
		if !f.Generate {
			continue
		}
		for _, svc := range f.Services {
			s, err := newService(f, svc)
			if err != nil {
				return err
			}
			pkg := contractPkg(s)
			switch pkg {
			case "chaincode", "rpc", "validation":
				return fmt.Errorf("service %s would generate its contract into the %s package", svc.Desc.FullName(), pkg)
			}
			if other, dup := pkgs[pkg]; dup {
				return fmt.Errorf("services %s and %s would both generate package %s", other, svc.Desc.FullName(), pkg)
			}
			for _, u := range s.unary {
				if name := ruleName(u.m); token.IsKeyword(name) {
					return fmt.Errorf("method %s (%s): its rule would be named %q, a Go keyword: rename the rpc", u.m.Desc.FullName(), f.Desc.Path(), name)
				}
			}
			pkgs[pkg] = string(svc.Desc.FullName())
			imp := protogen.GoImportPath(path.Join(string(root), pkg))
			writeContract(gen.NewGeneratedFile(pkg+"/contract.gen.go", imp), imp, root, ledger, s)
			all = append(all, s)
		}
	}
	if len(all) > 0 {
		slices.SortFunc(all, func(a, b *service) int {
			return cmp.Compare(txoption.ContractName(a.svc.Desc), txoption.ContractName(b.svc.Desc))
		})
		imp := protogen.GoImportPath(path.Join(string(root), "chaincode"))
		writeRPCs(gen.NewGeneratedFile("chaincode/rpcs.gen.go", imp), imp, root, all)
	}
	return nil
}

// ruleName is the name of the hand-written method that holds the business
// rules of rpc m: its Go name with a lower-case first letter, unexported so
// that the contract API does not take it for a transaction.
func ruleName(m *protogen.Method) string {
	r, size := utf8.DecodeRuneInString(m.GoName)
	return string(unicode.ToLower(r)) + m.GoName[size:]
}

// writeContract writes the part of a contract that its service states: the
// contract's name, type and constructor, its read-only transactions, the
// interface of typed rules that the hand-written part implements, and the
// transactions themselves, which decode the request, run the rule and
// encode its response.
func writeContract(g *protogen.GeneratedFile, imp, root, ledger protogen.GoImportPath, s *service) {
	full := s.svc.Desc.FullName()
	g.P(header)
	g.P("// source: ", s.file.Desc.Path())
	g.P()
	packageClause(g, imp)
	contract := g.QualifiedGoIdent(contractapiPkg.Ident("Contract"))
	rpcPkg := protogen.GoImportPath(path.Join(string(root), "rpc"))
	validationPkg := protogen.GoImportPath(path.Join(string(root), "validation"))

	g.P("// ContractName is the name the contract serving ", full, " is deployed under.")
	g.P("const ContractName = ", fmt.Sprintf("%q", txoption.ContractName(s.svc.Desc)))
	g.P()
	g.P("// Contract serves ", full, ".")
	g.P("// Its transactions are generated: each takes the binary request")
	g.P("// message, runs the rule of its rpc (rpcRules) on the transaction's")
	g.P("// ledger view and returns the binary response message.")
	g.P("type Contract struct {")
	g.P(contract)
	g.P("}")
	g.P()
	g.P("// New returns the contract, set up for the ledger.")
	g.P("func New() *Contract {")
	g.P("c := &Contract{", contract, "{Name: ContractName}}")
	g.P(g.QualifiedGoIdent(ledger.Ident("Configure")), "(&c.Contract)")
	g.P("return c")
	g.P("}")
	g.P()
	var eval []string
	for _, u := range s.unary {
		if u.kind == txoption.Kind_EVALUATE {
			eval = append(eval, fmt.Sprintf("%q", u.m.GoName))
		}
	}
	g.P("// GetEvaluateTransactions names the read-only transactions of the contract:")
	g.P("// the EVALUATE rpcs of ", full, ".")
	g.P("func (c *Contract) GetEvaluateTransactions() []string {")
	if len(eval) == 0 {
		g.P("return nil")
	} else {
		g.P("return []string{", strings.Join(eval, ", "), "}")
	}
	g.P("}")
	g.P()
	if len(s.unary) == 0 {
		return
	}
	tx := g.QualifiedGoIdent(ledger.Ident("Tx"))
	response := g.QualifiedGoIdent(rpcPkg.Ident("Response"))
	g.P("// rpcRules is what the rpcs of ", full, " require of the")
	g.P("// hand-written part of Contract: per rpc, a method that takes the")
	g.P("// transaction's ledger view and the request message the proto names,")
	g.P("// and answers the response message it names (or its encoding). A")
	g.P("// missing rule, or one with other types, does not compile.")
	g.P("type rpcRules interface {")
	for _, u := range s.unary {
		g.P("// ", ruleName(u.m), " is ", u.kind, ": ", u.m.Input.Desc.FullName(), " -> ", u.m.Output.Desc.FullName(), ".")
		g.P(ruleName(u.m), "(l *", tx, ", req *", g.QualifiedGoIdent(u.m.Input.GoIdent), ") (", response, "[*", g.QualifiedGoIdent(u.m.Output.GoIdent), "], error)")
	}
	g.P("}")
	g.P()
	g.P("var _ rpcRules = (*Contract)(nil)")
	txctx := g.QualifiedGoIdent(contractapiPkg.Ident("TransactionContextInterface"))
	for _, u := range s.unary {
		g.P()
		g.P("// ", u.m.GoName, " is the ", u.kind, " transaction ", u.tx, ":")
		if u.batch {
			g.P("// a batch call, whose request is refused above the batch request cap")
			g.P("// before it is decoded (", u.m.Input.Desc.FullName(), "); it runs ", ruleName(u.m))
		} else {
			g.P("// it decodes the request (", u.m.Input.Desc.FullName(), "), runs ", ruleName(u.m))
		}
		g.P("// and encodes its response (", u.m.Output.Desc.FullName(), ").")
		g.P("func (c *Contract) ", u.m.GoName, "(ctx ", txctx, ", req []byte) ([]byte, error) {")
		if u.batch {
			g.P("if err := ", g.QualifiedGoIdent(validationPkg.Ident("BatchRequest")), "(", fmt.Sprintf("%q", u.m.GoName), ", len(req)); err != nil {")
			g.P("return nil, err")
			g.P("}")
		}
		g.P("in := new(", g.QualifiedGoIdent(u.m.Input.GoIdent), ")")
		g.P("if err := ", g.QualifiedGoIdent(rpcPkg.Ident("Decode")), "(req, in); err != nil {")
		g.P("return nil, err")
		g.P("}")
		g.P("res, err := c.", ruleName(u.m), "(", g.QualifiedGoIdent(ledger.Ident("From")), "(ctx), in)")
		g.P("if err != nil {")
		g.P("return nil, err")
		g.P("}")
		g.P("return res.Encode()")
		g.P("}")
	}
}

// writeRPCs writes what the protos say of the chaincode as a whole: the
// set of its contracts (one per service), the table of their transactions
// that the chaincode calls directly, and the table of every contract's
// transactions and kinds, against which the chaincode checks the contracts
// it assembles.
func writeRPCs(g *protogen.GeneratedFile, imp, root protogen.GoImportPath, all []*service) {
	g.P(header)
	g.P()
	packageClause(g, imp)
	pkgOf := func(s *service) protogen.GoImportPath {
		return protogen.GoImportPath(path.Join(string(root), contractPkg(s)))
	}
	g.P("// contractSet holds one instance of the contract of every service of the")
	g.P("// protos.")
	g.P("type contractSet struct {")
	for _, s := range all {
		g.P(contractPkg(s), " *", g.QualifiedGoIdent(pkgOf(s).Ident("Contract")))
	}
	g.P("}")
	g.P()
	g.P("// newContractSet returns a new instance of every contract.")
	g.P("func newContractSet() *contractSet {")
	g.P("return &contractSet{")
	for _, s := range all {
		g.P(contractPkg(s), ": ", g.QualifiedGoIdent(pkgOf(s).Ident("New")), "(),")
	}
	g.P("}")
	g.P("}")
	g.P()
	g.P("// list returns the contracts, by contract name.")
	g.P("func (s *contractSet) list() []contract {")
	g.P("return []contract{")
	for _, s := range all {
		g.P("s.", contractPkg(s), ",")
	}
	g.P("}")
	g.P("}")
	g.P()
	g.P("// direct returns every transaction of the contracts by its name")
	g.P("// (\"<contract>:<rpc>\"), for the chaincode to call it without the")
	g.P("// contract API.")
	g.P("func (s *contractSet) direct() map[string]txFunc {")
	g.P("return map[string]txFunc{")
	for _, s := range all {
		for _, u := range s.unary {
			g.P(fmt.Sprintf("%q", u.tx), ": s.", contractPkg(s), ".", u.m.GoName, ",")
		}
	}
	g.P("}")
	g.P("}")
	g.P()
	g.P("// protoRPCs returns, per contract name, the transactions that its proto")
	g.P("// service declares, in declaration order, with their kinds.")
	g.P("func protoRPCs() map[string][]rpc {")
	g.P("return map[string][]rpc{")
	for _, s := range all {
		g.P(fmt.Sprintf("%q", txoption.ContractName(s.svc.Desc)), ": {")
		for _, u := range s.unary {
			g.P("{Name: ", fmt.Sprintf("%q", u.m.GoName), ", Evaluate: ", u.kind == txoption.Kind_EVALUATE, "},")
		}
		g.P("},")
	}
	g.P("}")
	g.P("}")
}
