package codec

import (
	"strings"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

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
