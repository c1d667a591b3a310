package chaincode_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/contracts/txserializer"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/txoption"
	"github.com/fedchain/orchestrator/solo/solotest"
)

// services returns the orchestrator services of the protocol.
func services(t *testing.T) []protoreflect.ServiceDescriptor {
	t.Helper()
	_ = protos.File_organization_proto // link the generated files
	var out []protoreflect.ServiceDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("orchestrator", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			out = append(out, fd.Services().Get(i))
		}
		return true
	})
	if len(out) != 13 {
		t.Fatalf("found %d orchestrator services, want 13", len(out))
	}
	return out
}

// TestTransactionsMatchProtocol checks, through the chaincode's own
// metadata, that every rpc of the protocol (but the streaming one) is a
// transaction of the right contract, tagged EVALUATE exactly when the rpc
// is an evaluate one, and that the chaincode has no other transaction.
func TestTransactionsMatchProtocol(t *testing.T) {
	n := chaincodetest.New(t, solotest.Start)
	md := getMetadata(t, n)
	want := map[string]bool{}
	for _, sd := range services(t) {
		contract := txoption.ContractName(sd)
		cm, ok := md.Contracts[contract]
		if !ok {
			t.Errorf("contract %s missing", contract)
			continue
		}
		for i := 0; i < sd.Methods().Len(); i++ {
			m := sd.Methods().Get(i)
			kind := txoption.MethodKind(m)
			if kind == txoption.Kind_STREAM {
				continue
			}
			want[txoption.TransactionName(m)] = true
			idx := slices.IndexFunc(cm.Transactions, func(tm metadata.TransactionMetadata) bool { return tm.Name == string(m.Name()) })
			if idx < 0 {
				t.Errorf("%s: no transaction %s", contract, m.Name())
				continue
			}
			tm := cm.Transactions[idx]
			if got := slices.Contains(tm.Tag, "EVALUATE"); got != (kind == txoption.Kind_EVALUATE) {
				t.Errorf("%s: EVALUATE tag %v, protocol kind %v", txoption.TransactionName(m), got, kind)
			}
			if len(tm.Parameters) != 1 {
				t.Errorf("%s: %d parameters, want 1", txoption.TransactionName(m), len(tm.Parameters))
			}
		}
	}
	for name, cm := range md.Contracts {
		if name == "org.hyperledger.fabric" {
			continue
		}
		for _, tm := range cm.Transactions {
			if !want[name+":"+tm.Name] {
				t.Errorf("transaction %s:%s is not in the protocol", name, tm.Name)
			}
		}
	}
}

func getMetadata(t *testing.T, n *chaincodetest.Net) metadata.ContractChaincodeMetadata {
	t.Helper()
	raw, err := n.EvaluateRaw("Org1MSP", "org.hyperledger.fabric:GetMetadata")
	if err != nil {
		t.Fatal(err)
	}
	var md metadata.ContractChaincodeMetadata
	if err := json.Unmarshal(raw, &md); err != nil {
		t.Fatalf("decode metadata: %v", err)
	}
	return md
}

func TestNewAppliesSerializer(t *testing.T) {
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cc.TransactionSerializer.(*txserializer.Raw); !ok {
		t.Fatalf("serializer is %T, want *txserializer.Raw", cc.TransactionSerializer)
	}
	if cc.Info.Title == "" {
		t.Error("chaincode has no title")
	}
}
