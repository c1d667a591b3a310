package txserializer_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/txserializer"
	"github.com/fedchain/orchestrator/protos"
)

func TestRawPassesBytesAndStrings(t *testing.T) {
	r := new(txserializer.Raw)
	raw := "\x00\xff binary \x01"
	v, err := r.FromString(raw, reflect.TypeFor[[]byte](), nil, nil)
	if err != nil || string(v.Bytes()) != raw {
		t.Errorf("[]byte: %q, %v", v.Bytes(), err)
	}
	v, err = r.FromString(raw, reflect.TypeFor[string](), nil, nil)
	if err != nil || v.String() != raw {
		t.Errorf("string: %q, %v", v.String(), err)
	}
	s, err := r.ToString(reflect.ValueOf([]byte(raw)), reflect.TypeFor[[]byte](), nil, nil)
	if err != nil || s != raw {
		t.Errorf("ToString []byte: %q, %v", s, err)
	}
	s, err = r.ToString(reflect.ValueOf(raw), reflect.TypeFor[string](), nil, nil)
	if err != nil || s != raw {
		t.Errorf("ToString string: %q, %v", s, err)
	}
	// other types fall back to JSON
	v, err = r.FromString("42", reflect.TypeFor[int](), nil, nil)
	if err != nil || v.Int() != 42 {
		t.Errorf("int: %v, %v", v, err)
	}
	s, err = r.ToString(reflect.ValueOf(7), reflect.TypeFor[int](), nil, nil)
	if err != nil || s != "7" {
		t.Errorf("ToString int: %q, %v", s, err)
	}
}

// echo is a contract answering a request with the number of samples it
// holds, either in binary proto ([]byte) or in protojson (string).
type echo struct {
	contractapi.Contract
}

func (e *echo) Binary(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	p := new(protos.RegisterDataSamplesParam)
	if err := proto.Unmarshal(req, p); err != nil {
		return nil, err
	}
	return proto.Marshal(&protos.RegisterDataSamplesResponse{DataSamples: make([]*protos.DataSample, 0, len(p.GetSamples()))})
}

func (e *echo) JSON(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	p := new(protos.RegisterDataSamplesParam)
	if err := protojson.Unmarshal([]byte(req), p); err != nil {
		return "", err
	}
	b, err := protojson.Marshal(&protos.RegisterDataSamplesResponse{DataSamples: make([]*protos.DataSample, 0, len(p.GetSamples()))})
	return string(b), err
}

// stub is the least a contract API Invoke needs.
type stub struct {
	shim.ChaincodeStubInterface
	args    [][]byte
	creator []byte
}

func (s *stub) GetArgs() [][]byte           { return s.args }
func (s *stub) GetCreator() ([]byte, error) { return s.creator, nil }
func (s *stub) GetTxID() string             { return "tx" }
func (s *stub) GetChannelID() string        { return "ch" }
func (s *stub) GetFunctionAndParameters() (string, []string) {
	out := make([]string, len(s.args)-1)
	for i, a := range s.args[1:] {
		out[i] = string(a)
	}
	return string(s.args[0]), out
}

// request is a RegisterDataSamplesParam of about 20 KB.
func request() *protos.RegisterDataSamplesParam {
	p := &protos.RegisterDataSamplesParam{}
	for i := range 150 {
		p.Samples = append(p.Samples, &protos.NewDataSample{
			Key:             fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			DataManagerKeys: []string{"11111111-0000-4000-8000-000000000001"},
			Checksum:        fmt.Sprintf("%064x", i),
		})
	}
	return p
}

func chaincode(t testing.TB, raw bool) *contractapi.ContractChaincode {
	cc, err := contractapi.NewChaincode(&echo{})
	if err != nil {
		t.Fatal(err)
	}
	if raw {
		cc.TransactionSerializer = new(txserializer.Raw)
	}
	return cc
}

func creator(t testing.TB) []byte {
	b, err := proto.Marshal(&msp.SerializedIdentity{Mspid: "Org1MSP"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invoke(t testing.TB, cc *contractapi.ContractChaincode, fn string, arg []byte) *peer.Response {
	return cc.Invoke(&stub{args: [][]byte{[]byte(fn), arg}, creator: creator(t)})
}

func TestBothEncodingsWork(t *testing.T) {
	req := request()
	bin, _ := proto.Marshal(req)
	js, _ := protojson.Marshal(req)
	if len(bin) < 18000 || len(bin) > 22000 {
		t.Fatalf("request is %d bytes, want about 20 KB", len(bin))
	}
	res := invoke(t, chaincode(t, true), "Binary", bin)
	if res.GetStatus() != shim.OK {
		t.Fatalf("binary: %s", res.GetMessage())
	}
	if err := proto.Unmarshal(res.GetPayload(), new(protos.RegisterDataSamplesResponse)); err != nil {
		t.Fatal(err)
	}
	res = invoke(t, chaincode(t, false), "JSON", js)
	if res.GetStatus() != shim.OK {
		t.Fatalf("json: %s", res.GetMessage())
	}
}

// BenchmarkInvoke compares one in-process Invoke with a ~20 KB request:
// binary proto through the raw serializer, and protojson in a string
// through the default JSON serializer.
func BenchmarkInvoke(b *testing.B) {
	req := request()
	bin, _ := proto.Marshal(req)
	js, _ := protojson.Marshal(req)
	for _, c := range []struct {
		name string
		raw  bool
		fn   string
		arg  []byte
	}{
		{"binary-raw", true, "Binary", bin},
		{"protojson-default", false, "JSON", js},
	} {
		b.Run(c.name, func(b *testing.B) {
			cc := chaincode(b, c.raw)
			s := &stub{args: [][]byte{[]byte(c.fn), c.arg}, creator: creator(b)}
			b.SetBytes(int64(len(c.arg)))
			b.ReportAllocs()
			for b.Loop() {
				if res := cc.Invoke(s); res.GetStatus() != shim.OK {
					b.Fatal(res.GetMessage())
				}
			}
		})
	}
}
