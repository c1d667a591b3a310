package rpc_test

import (
	"errors"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

func TestDecodeEncode(t *testing.T) {
	b, err := rpc.Encode(&protos.GetFunctionParam{Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var p protos.GetFunctionParam
	if err := rpc.Decode(b, &p); err != nil || p.GetKey() != "k" {
		t.Errorf("decoded %v, %v", &p, err)
	}
	err = rpc.Decode([]byte{0x0a, 0x05, 'a'}, &p)
	if !errors.Is(err, orcerr.ByteArray) {
		t.Errorf("truncated message: %v", err)
	}
	if err := rpc.Decode(nil, &p); err != nil || proto.Size(&p) != 0 {
		t.Errorf("empty request: %v, %v", &p, err)
	}
}

// creatorStub is a stub with a creator and nothing else.
type creatorStub struct {
	shim.ChaincodeStubInterface
	creator []byte
}

func (s *creatorStub) GetCreator() ([]byte, error) { return s.creator, nil }

func TestServe(t *testing.T) {
	cr, _ := proto.Marshal(&msp.SerializedIdentity{Mspid: "Org1MSP"})
	ctx := new(contractapi.TransactionContext)
	ctx.SetStub(&creatorStub{creator: cr})
	req, _ := proto.Marshal(&protos.GetFunctionParam{Key: "k"})
	out, err := rpc.ServeCaller(ctx, req, func(l *ledger.Tx, caller string, p *protos.GetFunctionParam) (*protos.Function, error) {
		return &protos.Function{Key: p.GetKey(), Owner: caller}, nil
	})
	var f protos.Function
	if err != nil || proto.Unmarshal(out, &f) != nil || f.GetOwner() != "Org1MSP" || f.GetKey() != "k" {
		t.Fatalf("ServeCaller = %v, %v", &f, err)
	}
	boom := orcerr.New(orcerr.NotFound, "nope")
	_, err = rpc.Serve(ctx, req, func(*ledger.Tx, *protos.GetFunctionParam) (*protos.Function, error) { return nil, boom })
	if err != boom {
		t.Errorf("Serve error %v", err)
	}
	_, err = rpc.Serve(ctx, []byte{0xff}, func(*ledger.Tx, *protos.GetFunctionParam) (*protos.Function, error) { return nil, nil })
	if !errors.Is(err, orcerr.ByteArray) {
		t.Errorf("Serve bad request: %v", err)
	}
	ctx.SetStub(&creatorStub{creator: []byte{0xff}})
	_, err = rpc.ServeCaller(ctx, req, func(*ledger.Tx, string, *protos.GetFunctionParam) (*protos.Function, error) { return nil, nil })
	if !errors.Is(err, orcerr.Internal) {
		t.Errorf("ServeCaller without creator: %v", err)
	}
}

func TestServeRaw(t *testing.T) {
	ctx := new(contractapi.TransactionContext)
	ctx.SetStub(&creatorStub{})
	req, _ := proto.Marshal(&protos.GetFunctionParam{Key: "k"})
	out, err := rpc.ServeRaw(ctx, req, func(_ *ledger.Tx, p *protos.GetFunctionParam) ([]byte, error) { return []byte(p.GetKey()), nil })
	if err != nil || string(out) != "k" {
		t.Errorf("ServeRaw = %q, %v", out, err)
	}
	if _, err := rpc.ServeRaw(ctx, []byte{0xff}, func(*ledger.Tx, *protos.GetFunctionParam) ([]byte, error) { return nil, nil }); !errors.Is(err, orcerr.ByteArray) {
		t.Errorf("ServeRaw bad request: %v", err)
	}
}

// TestEncodeRecords checks EncodeRecords against Encode of the response
// messages it builds.
func TestEncodeRecords(t *testing.T) {
	var samples []*protos.DataSample
	var records [][]byte
	for i := range 4 {
		ds := &protos.DataSample{Key: string(rune('a' + i)), DataManagerKeys: []string{"dm1", "dm2"}, Owner: "o", Checksum: "c"}
		if i == 2 {
			ds.Checksum = string(make([]byte, 300)) // a length of two varint bytes
		}
		b, err := rpc.Encode(ds)
		if err != nil {
			t.Fatal(err)
		}
		samples, records = append(samples, ds), append(records, b)
	}
	for n := range len(records) + 1 {
		want, err := rpc.Encode(&protos.RegisterDataSamplesResponse{DataSamples: samples[:n]})
		if err != nil {
			t.Fatal(err)
		}
		got, err := rpc.EncodeRecords(new(protos.RegisterDataSamplesResponse), "data_samples", records[:n])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%d samples: EncodeRecords = %x, want %x", n, got, want)
		}
	}
}

func TestEncodeRecordsRejectsField(t *testing.T) {
	for _, field := range []protoreflect.Name{"nope", "next_page_token"} {
		if _, err := rpc.EncodeRecords(new(protos.QueryDataSamplesResponse), field, nil); err == nil {
			t.Errorf("field %s accepted", field)
		}
	}
}
