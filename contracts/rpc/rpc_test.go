package rpc_test

import (
	"errors"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
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

func TestAsCaller(t *testing.T) {
	cr, _ := proto.Marshal(&msp.SerializedIdentity{Mspid: "Org1MSP"})
	l := ledger.New(&creatorStub{creator: cr}, "")
	p := &protos.GetFunctionParam{Key: "k"}
	res, err := rpc.AsCaller(l, p, func(l *ledger.Tx, caller string, p *protos.GetFunctionParam) (*protos.Function, error) {
		return &protos.Function{Key: p.GetKey(), Owner: caller}, nil
	})
	out, _ := res.Encode()
	var f protos.Function
	if err != nil || proto.Unmarshal(out, &f) != nil || f.GetOwner() != "Org1MSP" || f.GetKey() != "k" {
		t.Fatalf("AsCaller = %v, %v", &f, err)
	}
	boom := orcerr.New(orcerr.NotFound, "nope")
	if _, err := rpc.AsCaller(l, p, func(*ledger.Tx, string, *protos.GetFunctionParam) (*protos.Function, error) { return nil, boom }); err != boom {
		t.Errorf("AsCaller error %v", err)
	}
	called := false
	l = ledger.New(&creatorStub{creator: []byte{0xff}}, "")
	_, err = rpc.AsCaller(l, p, func(*ledger.Tx, string, *protos.GetFunctionParam) (*protos.Function, error) {
		called = true
		return nil, nil
	})
	if !errors.Is(err, orcerr.Internal) || called {
		t.Errorf("AsCaller without a creator: %v (rule called: %v)", err, called)
	}
}

func TestResponse(t *testing.T) {
	f := &protos.Function{Key: "k", Owner: "o"}
	enc, err := rpc.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		res     rpc.Response[*protos.Function]
		err     error
		want    []byte
		wantErr error
	}{
		{"message", must(rpc.Answer(f, nil)), nil, enc, nil},
		{"no message", must(rpc.Answer[*protos.Function](nil, nil)), nil, nil, nil},
		{"encoded", must(rpc.Encoded[*protos.Function](enc, nil)), nil, enc, nil},
		{"encoded as is", must(rpc.Encoded[*protos.Function]([]byte("raw"), nil)), nil, []byte("raw"), nil},
	}
	for _, tt := range tests {
		got, err := tt.res.Encode()
		if string(got) != string(tt.want) || err != tt.wantErr {
			t.Errorf("%s: Encode = %x, %v; want %x, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := rpc.Answer(f, boom); err != boom {
		t.Errorf("Answer error %v", err)
	}
	if _, err := rpc.Encoded[*protos.Function](enc, boom); err != boom {
		t.Errorf("Encoded error %v", err)
	}
}

func must[M proto.Message](r rpc.Response[M], err error) rpc.Response[M] {
	if err != nil {
		panic(err)
	}
	return r
}

// TestRecords checks Records against Encode of the response messages it
// builds.
func TestRecords(t *testing.T) {
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
		res, err := rpc.Records[*protos.RegisterDataSamplesResponse]("data_samples", records[:n])
		if err != nil {
			t.Fatal(err)
		}
		got, err := res.Encode()
		if err != nil || string(got) != string(want) {
			t.Errorf("%d samples: Records = %x, %v; want %x", n, got, err, want)
		}
	}
}

func TestRecordsRejectsField(t *testing.T) {
	for _, field := range []protoreflect.Name{"nope", "next_page_token"} {
		if _, err := rpc.Records[*protos.QueryDataSamplesResponse](field, nil); !errors.Is(err, orcerr.Internal) {
			t.Errorf("field %s: %v", field, err)
		}
	}
}
