package codec

import (
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

func TestRoundTrip(t *testing.T) {
	c := New()
	for _, n := range []int{0, 1, 10, 100, 2000} {
		in := &protos.RegisterTasksParam{}
		for i := range n {
			in.Tasks = append(in.Tasks, &protos.NewComputeTask{Key: strings.Repeat("k", i%40), Metadata: map[string]string{"rank": "1"}})
		}
		data, err := c.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := data.Len(), proto.Size(in); got != want {
			t.Errorf("%d tasks: encoded %d bytes, want %d", n, got, want)
		}
		// As gRPC receives a large message: in several buffers.
		flat := data.Materialize()
		var split mem.BufferSlice
		for len(flat) > 0 {
			k := min(len(flat), 16<<10)
			split = append(split, mem.SliceBuffer(flat[:k]))
			flat = flat[k:]
		}
		for _, d := range []mem.BufferSlice{data, split} {
			out := new(protos.RegisterTasksParam)
			if err := c.Unmarshal(d, out); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(in, out) {
				t.Errorf("%d tasks in %d buffers: decoded %d tasks", n, len(d), len(out.GetTasks()))
			}
		}
		data.Free()
	}
}

func TestNoProtobufMessage(t *testing.T) {
	c := New()
	if _, err := c.Marshal("text"); err == nil {
		t.Error("Marshal(string) succeeded")
	}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{1})}, new(int)); err == nil {
		t.Error("Unmarshal into *int succeeded")
	}
	if c.Name() != "proto" {
		t.Errorf("Name() = %q", c.Name())
	}
}

// TestBuffersFitMessages checks the point of the package: a pooled buffer
// is at most twice the size asked for (gRPC's default pool hands a 1 MiB
// buffer for anything above 32 KiB, and zeroes all of it).
func TestBuffersFitMessages(t *testing.T) {
	c := New()
	for _, size := range []int{1 << 10, 33 << 10, 60 << 10, 300 << 10, 5 << 20} {
		buf := c.pool.Get(size)
		if len(*buf) != size || cap(*buf) >= 2*size {
			t.Errorf("Get(%d): len %d, cap %d", size, len(*buf), cap(*buf))
		}
		c.pool.Put(buf)
	}
}

// TestGeneratedDecoding checks that the generated unmarshallers decode what
// the runtime decodes, into a message that held something before (as a
// stream's reused message may), and that a decoder without them is used for
// other messages.
func TestGeneratedDecoding(t *testing.T) {
	in := &protos.Event{Id: "e", AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, Asset: &protos.Event_ComputeTask{ComputeTask: &protos.ComputeTask{
		Key: "k", Rank: 3, Metadata: map[string]string{"a": "b"},
		Inputs:  []*protos.ComputeTaskInput{{Identifier: "data", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: "s"}}},
		Outputs: map[string]*protos.ComputeTaskOutput{"model": {Transient: true}},
	}}}
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Codec{New(), New(WithGeneratedDecoding())} {
		out := &protos.Event{Channel: "left over", Asset: &protos.Event_Model{Model: &protos.Model{Key: "m"}}}
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, out); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(in, out) {
			t.Errorf("generated %v: decoded %v, want %v", c.generated, out, in)
		}
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b[:len(b)-1])}, out); err == nil {
			t.Errorf("generated %v: a truncated event decoded", c.generated)
		}
	}
	// A message of another package (no generated unmarshaller).
	c := New(WithGeneratedDecoding())
	ts := &timestamppb.Timestamp{Seconds: 5}
	tb, _ := proto.Marshal(ts)
	var got timestamppb.Timestamp
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tb)}, &got); err != nil || got.GetSeconds() != 5 {
		t.Errorf("Unmarshal(timestamp) = %v, %v", &got, err)
	}
}
