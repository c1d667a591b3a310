package protos_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/fedchain/orchestrator/protos"
)

// updateFromRef rewrites testdata/wire.golden from a descriptor set compiled
// from the Substra orchestrator 1.0.0 .proto files (lib/asset/*.proto):
//
//	protoc --include_imports --descriptor_set_out=/tmp/ref.pb -I <ref dir> <ref dir>/*.proto
//	go test ./protos -run TestWireGolden -update-from-ref=/tmp/ref.pb
//
// The golden is never rendered from our own descriptors, so TestWireGolden
// compares ours against the reference.
var updateFromRef = flag.String("update-from-ref", "", "rewrite testdata/wire.golden from this reference descriptor set")

const (
	apiPackage = "orchestrator"
	goldenPath = "testdata/wire.golden"
)

func TestWireGolden(t *testing.T) {
	if *updateFromRef != "" {
		files := readDescriptorSet(t, *updateFromRef)
		if err := os.WriteFile(goldenPath, []byte(renderWire(t, files)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s from %s", goldenPath, *updateFromRef)
	}
	golden := readGolden(t)
	got := renderWire(t, protoregistry.GlobalFiles)
	if got != golden {
		t.Errorf("wire of package %s differs from %s (- golden, + ours):\n%s", apiPackage, goldenPath, lineDiff(golden, got))
	}
}

// TestWireGoldenBites proves the golden check catches wire changes: each case
// edits one detail in a copy of our descriptors and expects a different rendering.
func TestWireGoldenBites(t *testing.T) {
	golden := readGolden(t)
	tests := []struct {
		name   string
		mutate func(t *testing.T, set *descriptorpb.FileDescriptorSet)
		want   string // a line the diff must contain
	}{
		{"field number", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			findField(t, set, "ComputeTask", "worker").Number = proto.Int32(21)
		}, "21 worker"},
		{"field name", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			f := findField(t, set, "QueryFunctionsResponse", "Functions")
			f.Name, f.JsonName = proto.String("functions"), proto.String("functions")
		}, "1 functions"},
		{"field type", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			findField(t, set, "Performance", "performance_value").Type = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE.Enum()
		}, "2 performance_value singular double"},
		{"field label", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			findField(t, set, "DataSample", "data_manager_keys").Label = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
		}, "2 data_manager_keys singular string"},
		{"enum value", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			e := findEnum(t, set, "ComputeTaskStatus")
			for _, v := range e.Value {
				if v.GetName() == "STATUS_BUILDING" {
					v.Number = proto.Int32(9)
				}
			}
		}, "STATUS_BUILDING = 9"},
		{"streaming flag", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			findMethod(t, set, "EventService", "SubscribeToEvents").ServerStreaming = proto.Bool(false)
		}, "rpc SubscribeToEvents(orchestrator.SubscribeToEventsParam) returns (orchestrator.Event)"},
		{"method output", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			findMethod(t, set, "ComputeTaskService", "GetTask").OutputType = proto.String(".orchestrator.Model")
		}, "returns (orchestrator.Model)"},
		{"oneof membership", func(t *testing.T, set *descriptorpb.FileDescriptorSet) {
			findField(t, set, "ComputeTaskInput", "asset_key").OneofIndex = nil
		}, "2 asset_key singular string json=assetKey\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := ourDescriptorSet()
			tt.mutate(t, set)
			files, err := protodesc.NewFiles(set)
			if err != nil {
				t.Fatalf("mutated descriptors do not build: %v", err)
			}
			got := renderWire(t, files)
			if got == golden {
				t.Fatalf("mutation not detected")
			}
			if diff := lineDiff(golden, got); !strings.Contains(diff, "+ "+strings.TrimSpace(tt.want)) && !strings.Contains(diff, tt.want) {
				t.Errorf("diff does not show %q:\n%s", tt.want, diff)
			}
		})
	}

	// The unmutated copy must render exactly as the live registry does, or the
	// cases above would prove nothing.
	files, err := protodesc.NewFiles(ourDescriptorSet())
	if err != nil {
		t.Fatal(err)
	}
	if renderWire(t, files) != renderWire(t, protoregistry.GlobalFiles) {
		t.Fatal("descriptor set copy renders differently from the registry")
	}
}

// TestAPIShape pins the size of the API, so an accidental golden rewrite that
// drops a service is noticed.
func TestAPIShape(t *testing.T) {
	var services, methods int
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		services += fd.Services().Len()
		for i := range fd.Services().Len() {
			methods += fd.Services().Get(i).Methods().Len()
		}
		return true
	})
	if services != 13 || methods != 40 {
		t.Errorf("package %s has %d services and %d methods, want 13 and 40", apiPackage, services, methods)
	}
	if got := protos.File_computetask_proto.Package(); got != apiPackage {
		t.Errorf("computetask.proto package = %q", got)
	}
}

// renderWire renders the wire-relevant facts of package orchestrator in
// files as text: services, methods with their types and streaming flags,
// messages with every field, reserved numbers and names, and enums. Blocks are
// sorted by name, fields and values by number, so declaration order and file
// layout do not matter.
// Custom options are left out; they are not wire.
func renderWire(t *testing.T, files interface {
	RangeFilesByPackage(protoreflect.FullName, func(protoreflect.FileDescriptor) bool)
}) string {
	t.Helper()
	var blocks []string
	files.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			blocks = append(blocks, renderService(fd.Services().Get(i)))
		}
		blocks = append(blocks, renderMessages(fd.Messages())...)
		blocks = append(blocks, renderEnums(fd.Enums())...)
		return true
	})
	if len(blocks) == 0 {
		t.Fatalf("no file of package %s found", apiPackage)
	}
	slices.Sort(blocks)
	return strings.Join(blocks, "")
}

func renderService(sd protoreflect.ServiceDescriptor) string {
	var lines []string
	for i := range sd.Methods().Len() {
		m := sd.Methods().Get(i)
		in, out := string(m.Input().FullName()), string(m.Output().FullName())
		if m.IsStreamingClient() {
			in = "stream " + in
		}
		if m.IsStreamingServer() {
			out = "stream " + out
		}
		line := fmt.Sprintf("  rpc %s(%s) returns (%s)", m.Name(), in, out)
		if m.Options().(*descriptorpb.MethodOptions).GetDeprecated() {
			line += " deprecated"
		}
		lines = append(lines, line+"\n")
	}
	slices.Sort(lines)
	return "service " + string(sd.FullName()) + "\n" + strings.Join(lines, "")
}

func renderMessages(mds protoreflect.MessageDescriptors) []string {
	var blocks []string
	for i := range mds.Len() {
		md := mds.Get(i)
		blocks = append(blocks, renderEnums(md.Enums())...)
		blocks = append(blocks, renderMessages(md.Messages())...)
		if md.IsMapEntry() {
			continue // rendered as the map field that uses it
		}
		fields := make([]protoreflect.FieldDescriptor, md.Fields().Len())
		for j := range fields {
			fields[j] = md.Fields().Get(j)
		}
		slices.SortFunc(fields, func(a, b protoreflect.FieldDescriptor) int { return int(a.Number() - b.Number()) })
		var lines []string
		for _, f := range fields {
			lines = append(lines, renderField(f))
		}
		lines = append(lines, renderReserved(fieldNumbers(md.ReservedRanges()), md.ReservedNames())...)
		blocks = append(blocks, "message "+string(md.FullName())+"\n"+strings.Join(lines, ""))
	}
	return blocks
}

func renderField(f protoreflect.FieldDescriptor) string {
	var typ string
	switch {
	case f.IsMap():
		typ = "map<" + fieldType(f.MapKey()) + ", " + fieldType(f.MapValue()) + ">"
	case f.Cardinality() == protoreflect.Repeated:
		typ = "repeated " + fieldType(f)
	default:
		typ = "singular " + fieldType(f)
	}
	s := fmt.Sprintf("  %d %s %s json=%s", f.Number(), f.Name(), typ, f.JSONName())
	if f.HasPresence() {
		s += " presence"
	}
	if f.IsPacked() {
		s += " packed"
	}
	if o := f.ContainingOneof(); o != nil {
		if o.IsSynthetic() {
			s += " proto3_optional"
		} else {
			s += " oneof=" + string(o.Name())
		}
	}
	return s + "\n"
}

func fieldType(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return f.Kind().String() + " " + string(f.Message().FullName())
	case protoreflect.EnumKind:
		return "enum " + string(f.Enum().FullName())
	default:
		return f.Kind().String()
	}
}

func renderEnums(eds protoreflect.EnumDescriptors) []string {
	var blocks []string
	for i := range eds.Len() {
		ed := eds.Get(i)
		values := make([]protoreflect.EnumValueDescriptor, ed.Values().Len())
		for j := range values {
			values[j] = ed.Values().Get(j)
		}
		slices.SortFunc(values, func(a, b protoreflect.EnumValueDescriptor) int {
			if c := int(a.Number() - b.Number()); c != 0 {
				return c
			}
			return strings.Compare(string(a.Name()), string(b.Name()))
		})
		var lines []string
		for _, v := range values {
			lines = append(lines, fmt.Sprintf("  %s = %d\n", v.Name(), v.Number()))
		}
		lines = append(lines, renderReserved(enumNumbers(ed.ReservedRanges()), ed.ReservedNames())...)
		blocks = append(blocks, "enum "+string(ed.FullName())+"\n"+strings.Join(lines, ""))
	}
	return blocks
}

// fieldNumbers expands reserved field ranges, which are half-open.
func fieldNumbers(ranges protoreflect.FieldRanges) []int {
	var nums []int
	for i := range ranges.Len() {
		r := ranges.Get(i)
		for n := r[0]; n < r[1]; n++ {
			nums = append(nums, int(n))
		}
	}
	return nums
}

// enumNumbers expands reserved enum ranges, which are inclusive.
func enumNumbers(ranges protoreflect.EnumRanges) []int {
	var nums []int
	for i := range ranges.Len() {
		r := ranges.Get(i)
		for n := r[0]; n <= r[1]; n++ {
			nums = append(nums, int(n))
		}
	}
	return nums
}

// renderReserved renders reserved numbers one per line (ranges expanded, they
// are small) and reserved names, both sorted.
func renderReserved(nums []int, names protoreflect.Names) []string {
	slices.Sort(nums)
	var lines []string
	for _, n := range nums {
		lines = append(lines, fmt.Sprintf("  reserved %d\n", n))
	}
	var ns []string
	for i := range names.Len() {
		ns = append(ns, fmt.Sprintf("  reserved %q\n", names.Get(i)))
	}
	slices.Sort(ns)
	return append(lines, ns...)
}

// ourDescriptorSet returns our compiled files, with their imports, as a
// FileDescriptorSet (dependencies first).
func ourDescriptorSet() *descriptorpb.FileDescriptorSet {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := range fd.Imports().Len() {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, func(fd protoreflect.FileDescriptor) bool {
		add(fd)
		return true
	})
	return set
}

func readDescriptorSet(t *testing.T, path string) *protoregistry.Files {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return files
}

func readGolden(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func findMessage(t *testing.T, set *descriptorpb.FileDescriptorSet, name string) *descriptorpb.DescriptorProto {
	t.Helper()
	for _, f := range set.File {
		if f.GetPackage() != apiPackage {
			continue
		}
		for _, m := range f.MessageType {
			if m.GetName() == name {
				return m
			}
		}
	}
	t.Fatalf("message %s not found", name)
	return nil
}

func findField(t *testing.T, set *descriptorpb.FileDescriptorSet, msg, field string) *descriptorpb.FieldDescriptorProto {
	t.Helper()
	for _, f := range findMessage(t, set, msg).Field {
		if f.GetName() == field {
			return f
		}
	}
	t.Fatalf("field %s.%s not found", msg, field)
	return nil
}

func findEnum(t *testing.T, set *descriptorpb.FileDescriptorSet, name string) *descriptorpb.EnumDescriptorProto {
	t.Helper()
	for _, f := range set.File {
		for _, e := range f.EnumType {
			if f.GetPackage() == apiPackage && e.GetName() == name {
				return e
			}
		}
	}
	t.Fatalf("enum %s not found", name)
	return nil
}

func findMethod(t *testing.T, set *descriptorpb.FileDescriptorSet, service, method string) *descriptorpb.MethodDescriptorProto {
	t.Helper()
	for _, f := range set.File {
		for _, s := range f.Service {
			if f.GetPackage() != apiPackage || s.GetName() != service {
				continue
			}
			for _, m := range s.Method {
				if m.GetName() == method {
					return m
				}
			}
		}
	}
	t.Fatalf("method %s.%s not found", service, method)
	return nil
}

// lineDiff lists the lines only in want ("- ") and only in got ("+ ").
// Both renderings are sorted blocks, so a set difference is a readable diff.
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.SplitAfter(want, "\n") {
		count[l]++
	}
	for _, l := range strings.SplitAfter(got, "\n") {
		count[l]--
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(want, "\n") {
		if count[l] > 0 {
			b.WriteString("- " + l)
			count[l]--
		}
	}
	for _, l := range strings.SplitAfter(got, "\n") {
		if count[l] < 0 {
			b.WriteString("+ " + l)
			count[l]++
		}
	}
	return b.String()
}
