package ledger_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// asset is a typical stored record: a function with inputs, outputs,
// permissions and metadata.
func asset() *protos.Function {
	addr := func(s string) *protos.Addressable {
		return &protos.Addressable{Checksum: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", StorageAddress: "http://backend.org-1.example.org:8000/function/" + s}
	}
	return &protos.Function{
		Key: "00000000-0000-4000-8000-000000000001", Name: "logistic regression", Owner: "Org1MSP",
		Description: addr("description"), Archive: addr("archive"), Image: addr("image"),
		Permissions: &protos.Permissions{
			Process:  &protos.Permission{AuthorizedIds: []string{"Org1MSP", "Org2MSP", "Org3MSP"}},
			Download: &protos.Permission{AuthorizedIds: []string{"Org1MSP", "Org2MSP", "Org3MSP"}},
		},
		CreationDate: timestamppb.New(t0),
		Metadata:     map[string]string{"framework": "torch", "version": "2.1"},
		Inputs: map[string]*protos.FunctionInput{
			"opener": {Kind: protos.AssetKind_ASSET_DATA_MANAGER}, "datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
			"models": {Kind: protos.AssetKind_ASSET_MODEL, Multiple: true, Optional: true},
		},
		Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}},
		Status:  protos.FunctionStatus_FUNCTION_STATUS_READY,
	}
}

// BenchmarkRecordEncoding compares storing (marshal) and reading
// (unmarshal) a record as binary proto and as protojson.
func BenchmarkRecordEncoding(b *testing.B) {
	f := asset()
	codecs := []struct {
		name      string
		marshal   func(proto.Message) ([]byte, error)
		unmarshal func([]byte, proto.Message) error
	}{
		{"proto", proto.MarshalOptions{Deterministic: true}.Marshal, proto.Unmarshal},
		{"protojson", protojson.Marshal, protojson.Unmarshal},
	}
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				buf, err := c.marshal(f)
				if err != nil {
					b.Fatal(err)
				}
				n = len(buf)
				if err := c.unmarshal(buf, new(protos.Function)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "bytes/record")
		})
	}
}
