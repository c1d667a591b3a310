package main

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

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
			if pkg == "chaincode" {
				return fmt.Errorf("service %s would generate its contract into the chaincode package", svc.Desc.FullName())
			}
			if other, dup := pkgs[pkg]; dup {
				return fmt.Errorf("services %s and %s would both generate package %s", other, svc.Desc.FullName(), pkg)
			}
			pkgs[pkg] = string(svc.Desc.FullName())
			imp := protogen.GoImportPath(path.Join(string(root), pkg))
			writeContract(gen.NewGeneratedFile(pkg+"/contract.gen.go", imp), imp, ledger, s)
			all = append(all, s)
		}
	}
	if len(all) > 0 {
		slices.SortFunc(all, func(a, b *service) int {
			return cmp.Compare(txoption.ContractName(a.svc.Desc), txoption.ContractName(b.svc.Desc))
		})
		imp := protogen.GoImportPath(path.Join(string(root), "chaincode"))
		writeRPCs(gen.NewGeneratedFile("chaincode/rpcs.gen.go", imp), imp, all)
	}
	return nil
}

// writeContract writes the part of a contract that its service states: the
// contract's name, type and constructor, its read-only transactions, and the
// method set the hand-written part must implement.
func writeContract(g *protogen.GeneratedFile, imp, ledger protogen.GoImportPath, s *service) {
	full := s.svc.Desc.FullName()
	g.P(header)
	g.P("// source: ", s.file.Desc.Path())
	g.P()
	packageClause(g, imp)
	contract := g.QualifiedGoIdent(contractapiPkg.Ident("Contract"))
	txctx := g.QualifiedGoIdent(contractapiPkg.Ident("TransactionContextInterface"))

	g.P("// ContractName is the name the contract serving ", full, " is deployed under.")
	g.P("const ContractName = ", fmt.Sprintf("%q", txoption.ContractName(s.svc.Desc)))
	g.P()
	g.P("// Contract serves ", full, ". Each transaction takes the binary request")
	g.P("// message and returns the binary response message.")
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
	g.P("// rpcs is the method set that the rpcs of ", full)
	g.P("// require of Contract: a missing or misspelt transaction does not compile.")
	g.P("type rpcs interface {")
	for _, u := range s.unary {
		g.P("// ", u.m.GoName, " is ", u.kind, ": ", u.m.Input.Desc.FullName(), " -> ", u.m.Output.Desc.FullName(), ".")
		g.P(u.m.GoName, "(ctx ", txctx, ", req []byte) ([]byte, error)")
	}
	g.P("}")
	g.P()
	g.P("var _ rpcs = (*Contract)(nil)")
}

// writeRPCs writes the table of every contract's transactions and kinds,
// against which the chaincode checks the contracts it assembles.
func writeRPCs(g *protogen.GeneratedFile, imp protogen.GoImportPath, all []*service) {
	g.P(header)
	g.P()
	packageClause(g, imp)
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
