package protos_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// TestGeneratedUpToDate compiles the .proto files with protoc and checks that
// the descriptors embedded in the generated Go code are the same, so a .proto
// edit without `make generate` fails here. Skipped when protoc is missing.
func TestGeneratedUpToDate(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc not installed")
	}
	sources, err := filepath.Glob("*.proto")
	if err != nil || len(sources) == 0 {
		t.Fatalf("no .proto files found: %v", err)
	}
	out := filepath.Join(t.TempDir(), "set.pb")
	args := append([]string{"-I", ".", "--include_imports", "--descriptor_set_out=" + out, "txoption/txoption.proto"}, sources...)
	if b, err := exec.Command(protoc, args...).CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		t.Fatal(err)
	}
	compiled := map[string]*descriptorpb.FileDescriptorProto{}
	for _, f := range set.File {
		compiled[f.GetName()] = f
	}
	check := func(fd protoreflect.FileDescriptor) {
		want, ok := compiled[fd.Path()]
		if !ok {
			t.Errorf("%s: generated Go has no .proto source", fd.Path())
			return
		}
		delete(compiled, fd.Path())
		got := protodesc.ToFileDescriptorProto(fd)
		if !proto.Equal(want, got) {
			opts := prototext.MarshalOptions{Multiline: true}
			t.Errorf("%s: generated Go is stale, run make generate (- protoc, + Go):\n%s",
				fd.Path(), lineDiff(opts.Format(want), opts.Format(got)))
		}
	}
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		check(fd)
		return true
	})
	txfd, err := protoregistry.GlobalFiles.FindFileByPath("txoption/txoption.proto")
	if err != nil {
		t.Fatal(err)
	}
	check(txfd)
	for name, f := range compiled {
		if f.GetPackage() == apiPackage {
			t.Errorf("%s: no generated Go code", name)
		}
	}
}
