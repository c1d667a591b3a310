package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	_ "github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/txoption"
)

var update = flag.Bool("update", false, "recompile testdata/descriptors.pb with protoc and rewrite the golden files")

const testPackage = "package=example.com/facadetest/facade"

// testContracts asks for the contract side.
const testContracts = "contracts=example.com/facadetest/contracts,ledger=example.com/facadetest/ledger"

// testProtos are compiled into testdata/descriptors.pb by -update.
var testProtos = []string{"widget.proto", "assembly.proto"}

// descriptors returns the files of testdata/descriptors.pb, dependencies first.
func descriptors(t *testing.T) []*descriptorpb.FileDescriptorProto {
	t.Helper()
	set := filepath.Join("testdata", "descriptors.pb")
	if *update {
		args := []string{"-I", "testdata", "-I", filepath.Join("..", "..", "protos"), "--include_imports", "-o", set}
		for _, f := range testProtos {
			args = append(args, filepath.Join("testdata", f))
		}
		if out, err := exec.Command("protoc", args...).CombinedOutput(); err != nil {
			t.Fatalf("protoc: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile(set)
	if err != nil {
		t.Fatal(err)
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &fds); err != nil {
		t.Fatal(err)
	}
	return fds.File
}

// run runs the plugin in-process as protoc would.
func run(files []*descriptorpb.FileDescriptorProto, toGenerate []string, param string) (map[string]string, error) {
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: toGenerate,
		Parameter:      proto.String(param),
		ProtoFile:      files,
	}
	var p params
	gen, err := p.options().New(req)
	if err != nil {
		return nil, err
	}
	if err := p.generate(gen); err != nil {
		return nil, err
	}
	resp := gen.Response()
	if resp.Error != nil {
		return nil, errorString(*resp.Error)
	}
	out := map[string]string{}
	for _, f := range resp.File {
		out[f.GetName()] = f.GetContent()
	}
	return out, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestGolden(t *testing.T) {
	files := descriptors(t)
	tests := []struct {
		name     string
		generate []string
		param    string
	}{
		{"all", []string{"widget.proto", "assembly.proto"}, testPackage},
		{"nostream", []string{"assembly.proto"}, testPackage},
		{"contracts", []string{"widget.proto", "assembly.proto"}, testContracts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(files, tt.generate, tt.param)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", tt.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, content := range out {
					file := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".golden")
					if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			goldens, err := filepath.Glob(filepath.Join(dir, "*.golden"))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, g := range goldens {
				want = append(want, strings.TrimSuffix(filepath.Base(g), ".golden"))
			}
			var got []string
			for name := range out {
				got = append(got, strings.ReplaceAll(name, "/", "_"))
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("generated files %v, golden files %v (run go test -update)", got, want)
			}
			for name, content := range out {
				b, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".golden"))
				if err != nil {
					t.Fatal(err)
				}
				if content != string(b) {
					t.Errorf("%s differs from %s.golden (run go test -update):\n%s", name, name, out[name])
				}
			}
		})
	}
}

// TestDeterministic checks that the output does not depend on the order of
// the files to generate.
func TestDeterministic(t *testing.T) {
	files := descriptors(t)
	a, err := run(files, []string{"widget.proto", "assembly.proto"}, testPackage)
	if err != nil {
		t.Fatal(err)
	}
	b, err := run(files, []string{"assembly.proto", "widget.proto"}, testPackage)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for name, content := range a {
		if b[name] != content {
			t.Errorf("%s depends on the order of the files", name)
		}
	}
}

// mutate returns a deep copy of files in which edit has changed the method
// service.method of widget.proto.
func mutate(t *testing.T, files []*descriptorpb.FileDescriptorProto, service, method string, edit func(*descriptorpb.MethodDescriptorProto)) []*descriptorpb.FileDescriptorProto {
	t.Helper()
	var out []*descriptorpb.FileDescriptorProto
	found := false
	for _, f := range files {
		f = proto.Clone(f).(*descriptorpb.FileDescriptorProto)
		if f.GetName() == "widget.proto" {
			for _, s := range f.Service {
				for _, m := range s.Method {
					if s.GetName() == service && m.GetName() == method {
						edit(m)
						found = true
					}
				}
			}
		}
		out = append(out, f)
	}
	if !found {
		t.Fatalf("no method %s.%s in widget.proto", service, method)
	}
	return out
}

func setKind(k txoption.Kind) func(*descriptorpb.MethodDescriptorProto) {
	return func(m *descriptorpb.MethodDescriptorProto) {
		m.Options = &descriptorpb.MethodOptions{}
		proto.SetExtension(m.Options, txoption.E_Kind, k)
	}
}

func TestErrors(t *testing.T) {
	files := descriptors(t)
	tests := []struct {
		name    string
		files   []*descriptorpb.FileDescriptorProto
		param   string
		wantErr []string
	}{
		{
			name: "no option",
			files: mutate(t, files, "WidgetService", "GetWidget", func(m *descriptorpb.MethodDescriptorProto) {
				m.Options = nil
			}),
			param:   testPackage,
			wantErr: []string{"facadetest.WidgetService.GetWidget", "widget.proto", "no (fedchain.txoption.kind) option"},
		},
		{
			name:    "unspecified kind",
			files:   mutate(t, files, "GadgetService", "DropGadget", setKind(txoption.Kind_KIND_UNSPECIFIED)),
			param:   testPackage,
			wantErr: []string{"facadetest.GadgetService.DropGadget", "no (fedchain.txoption.kind) option"},
		},
		{
			name:    "unary marked stream",
			files:   mutate(t, files, "WidgetService", "RegisterWidget", setKind(txoption.Kind_STREAM)),
			param:   testPackage,
			wantErr: []string{"facadetest.WidgetService.RegisterWidget", "not a server-streaming method"},
		},
		{
			name: "client stream marked stream",
			files: mutate(t, files, "WidgetService", "WatchWidgets", func(m *descriptorpb.MethodDescriptorProto) {
				m.ClientStreaming = proto.Bool(true)
			}),
			param:   testPackage,
			wantErr: []string{"facadetest.WidgetService.WatchWidgets", "not a server-streaming method"},
		},
		{
			name:    "stream marked submit",
			files:   mutate(t, files, "WidgetService", "WatchWidgets", setKind(txoption.Kind_SUBMIT)),
			param:   testPackage,
			wantErr: []string{"facadetest.WidgetService.WatchWidgets", "mark it STREAM"},
		},
		{
			name:    "unknown kind",
			files:   mutate(t, files, "WidgetService", "GetWidget", setKind(txoption.Kind(42))),
			param:   testPackage,
			wantErr: []string{"facadetest.WidgetService.GetWidget", "unknown kind"},
		},
		{
			name: "evaluate marked batch",
			files: mutate(t, files, "WidgetService", "GetWidget", func(m *descriptorpb.MethodDescriptorProto) {
				proto.SetExtension(m.Options, txoption.E_Batch, true)
			}),
			param:   testContracts,
			wantErr: []string{"facadetest.WidgetService.GetWidget", "marked batch but is EVALUATE"},
		},
		{
			name: "rule named by a keyword",
			files: mutate(t, files, "WidgetService", "Ping", func(m *descriptorpb.MethodDescriptorProto) {
				m.Name = proto.String("Range")
			}),
			param:   testContracts,
			wantErr: []string{"facadetest.WidgetService.Range", `"range", a Go keyword`},
		},
		{
			name:    "no package parameter",
			files:   files,
			param:   "",
			wantErr: []string{"missing parameter package="},
		},
		{
			name:    "unknown parameter",
			files:   files,
			param:   testPackage + ",colour=blue",
			wantErr: []string{"colour"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.files, testProtos, tt.param)
			if err == nil {
				t.Fatalf("no error; generated %d files", len(out))
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// orchestratorFiles returns the descriptors of the orchestrator API, as
// linked into this test binary, with their dependencies, dependencies first.
func orchestratorFiles(t *testing.T) (all []*descriptorpb.FileDescriptorProto, api []string) {
	t.Helper()
	seen := map[string]bool{}
	var visit func(fd protoreflect.FileDescriptor)
	visit = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			visit(imports.Get(i).FileDescriptor)
		}
		all = append(all, protodesc.ToFileDescriptorProto(fd))
	}
	var files []protoreflect.FileDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("orchestrator", func(fd protoreflect.FileDescriptor) bool {
		files = append(files, fd)
		return true
	})
	slices.SortFunc(files, func(a, b protoreflect.FileDescriptor) int { return strings.Compare(a.Path(), b.Path()) })
	for _, fd := range files {
		visit(fd)
		api = append(api, fd.Path())
	}
	if len(api) == 0 {
		t.Fatal("no file of proto package orchestrator is linked in")
	}
	return all, api
}

// TestFacadeUpToDate checks that the committed facade/*.gen.go files are what
// the plugin makes of the protos linked into this binary: run `make generate`
// when it fails.
func TestFacadeUpToDate(t *testing.T) {
	files, api := orchestratorFiles(t)
	out, err := run(files, api, "package=github.com/fedchain/orchestrator/facade")
	if err != nil {
		t.Fatal(err)
	}
	facadeDir := filepath.Join("..", "..", "facade")
	committed, err := filepath.Glob(filepath.Join(facadeDir, "*.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range committed {
		if _, ok := out[filepath.Base(path)]; !ok {
			t.Errorf("%s is not generated any more; delete it", path)
		}
	}
	for name, content := range out {
		b, err := os.ReadFile(filepath.Join(facadeDir, name))
		if err != nil {
			t.Errorf("%v (run make generate)", err)
			continue
		}
		if !bytes.Equal(b, []byte(content)) {
			t.Errorf("facade/%s is stale (run make generate)", name)
		}
	}
}
