package txoption_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/emptypb"

	"github.com/fedchain/orchestrator/protos/txoption"
)

func TestMethodKind(t *testing.T) {
	withKind := func(k txoption.Kind) *descriptorpb.MethodOptions {
		o := &descriptorpb.MethodOptions{}
		proto.SetExtension(o, txoption.E_Kind, k)
		return o
	}
	batch := withKind(txoption.Kind_SUBMIT)
	proto.SetExtension(batch, txoption.E_Batch, true)
	tests := []struct {
		name      string
		opts      *descriptorpb.MethodOptions
		want      txoption.Kind
		wantBatch bool
	}{
		{"no options", nil, txoption.Kind_KIND_UNSPECIFIED, false},
		{"other options only", &descriptorpb.MethodOptions{Deprecated: proto.Bool(true)}, txoption.Kind_KIND_UNSPECIFIED, false},
		{"submit", withKind(txoption.Kind_SUBMIT), txoption.Kind_SUBMIT, false},
		{"evaluate", withKind(txoption.Kind_EVALUATE), txoption.Kind_EVALUATE, false},
		{"stream", withKind(txoption.Kind_STREAM), txoption.Kind_STREAM, false},
		{"batch", batch, txoption.Kind_SUBMIT, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fdp := &descriptorpb.FileDescriptorProto{
				Name:       proto.String("kindtest.proto"),
				Package:    proto.String("kindtest"),
				Syntax:     proto.String("proto3"),
				Dependency: []string{"google/protobuf/empty.proto"},
				Service: []*descriptorpb.ServiceDescriptorProto{{
					Name: proto.String("S"),
					Method: []*descriptorpb.MethodDescriptorProto{{
						Name:       proto.String("M"),
						InputType:  proto.String(".google.protobuf.Empty"),
						OutputType: proto.String(".google.protobuf.Empty"),
						Options:    tt.opts,
					}},
				}},
			}
			fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
			if err != nil {
				t.Fatal(err)
			}
			m := fd.Services().Get(0).Methods().Get(0)
			if got := txoption.MethodKind(m); got != tt.want {
				t.Errorf("MethodKind = %v, want %v", got, tt.want)
			}
			if got := txoption.IsBatch(m); got != tt.wantBatch {
				t.Errorf("IsBatch = %v, want %v", got, tt.wantBatch)
			}
		})
	}
}
