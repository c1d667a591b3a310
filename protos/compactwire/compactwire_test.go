package compactwire_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/compactwire"
)

func newCodec(t testing.TB) *compactwire.Codec {
	t.Helper()
	c, err := compactwire.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// batch is a RegisterTasks request of n tasks that share their plan,
// function and inputs, as a client's batches do; keys are fixed so that
// its bytes are too.
func batch(t testing.TB, n int) []byte {
	t.Helper()
	key := func(s string, i int) string {
		h := sha256.Sum256([]byte(s + strconv.Itoa(i)))
		x := hex.EncodeToString(h[:16])
		return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
	}
	inputs := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: key("dm", 0)}}}
	for i := range 3 {
		inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: key("sample", i)}})
	}
	p := &protos.RegisterTasksParam{}
	for i := range n {
		p.Tasks = append(p.Tasks, &protos.NewComputeTask{
			Key: key("task", i), FunctionKey: key("fn", 0), ComputePlanKey: key("plan", 0), Inputs: inputs,
			Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: &protos.NewPermissions{AuthorizedIds: []string{"Org1MSP"}}}},
			Metadata: map[string]string{"round": strconv.Itoa(i)},
		})
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t)
	var random []byte // incompressible, deterministic
	for h := sha256.Sum256(nil); len(random) < 320; h = sha256.Sum256(h[:]) {
		random = append(random, h[:]...)
	}
	for _, tt := range []struct {
		name     string
		plain    []byte
		wantForm byte // 0 stored, 1 zstd
	}{
		{"empty", []byte{}, 0},
		{"one byte", []byte{0x0a}, 0},
		{"incompressible", random, 0},
		{"one task", batch(t, 1), 1},
		{"fifty tasks", batch(t, 50), 1},
		{"repetitive", bytes.Repeat([]byte("orchestrator"), 1000), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			enc := c.Encode(tt.plain)
			if !compactwire.IsCompact(enc) || enc[1] != tt.wantForm {
				t.Fatalf("encoding starts % x, want 00 %02x", enc[:min(2, len(enc))], tt.wantForm)
			}
			if tt.wantForm == 1 && len(enc) >= len(tt.plain) {
				t.Errorf("compressed %d bytes into %d", len(tt.plain), len(enc))
			}
			got, err := c.Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plain) || got == nil {
				t.Fatalf("decoded %d bytes (nil %v), want the %d encoded", len(got), got == nil, len(tt.plain))
			}
		})
	}
}

func TestPlainPassesThrough(t *testing.T) {
	c := newCodec(t)
	for _, plain := range [][]byte{nil, {}, batch(t, 2), {0x0a, 0x00}} {
		if compactwire.IsCompact(plain) {
			t.Fatalf("% x is taken for compact", plain)
		}
		got, err := c.Decode(plain)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Decode(% x) = % x, %v; want it unchanged", plain, got, err)
		}
	}
}

func TestTooLargeStaysPlain(t *testing.T) {
	c := newCodec(t)
	plain := make([]byte, compactwire.MaxPlainBytes+1)
	plain[0] = 0x0a
	if enc := c.Encode(plain); &enc[0] != &plain[0] || len(enc) != len(plain) {
		t.Fatal("a payload over MaxPlainBytes was encoded: no reader would accept it")
	}
	atLimit := plain[:compactwire.MaxPlainBytes]
	got, err := c.Decode(c.Encode(atLimit))
	if err != nil || len(got) != compactwire.MaxPlainBytes {
		t.Fatalf("a payload of MaxPlainBytes: %d bytes, %v", len(got), err)
	}
}

// TestDeterministic: endorsers must agree on every byte, whichever codec
// encodes, in whatever order, concurrently with other encodings.
func TestDeterministic(t *testing.T) {
	inputs := [][]byte{batch(t, 50), batch(t, 1), batch(t, 1000), bytes.Repeat([]byte{1, 2, 3}, 5000)}
	want := make([][]byte, len(inputs))
	first := newCodec(t)
	for i, in := range inputs {
		want[i] = first.Encode(in)
	}
	shared := newCodec(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			c := shared
			if g%2 == 0 {
				c = newCodec(t)
			}
			for r := range 20 {
				i := (g + r) % len(inputs)
				if got := c.Encode(inputs[i]); !bytes.Equal(got, want[i]) {
					errs <- fmt.Errorf("goroutine %d, round %d: input %d encoded differently", g, r, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGolden pins the encoding itself. If it fails after a change of the
// compression library or of the codec's options, chaincode builds before
// and after the change produce different answer and event bytes and fail
// each other's endorsements: change the form byte, or upgrade every
// organization's chaincode at once.
func TestGolden(t *testing.T) {
	c := newCodec(t)
	for _, tt := range []struct {
		name string
		in   []byte
		size int
		sum  string
	}{
		{"one task", batch(t, 1), 266, "b44d7c50045b4957072a94b55129bf1b5ac1d85f57a702505d2cbdeb1ffe4a42"},
		{"fifty tasks", batch(t, 50), 1392, "0fdc467a6dd9d40f402cc94f877623ccfc67846f36fbadd7e2730c9b7a4140fe"},
		{"thousand tasks", batch(t, 1000), 23132, "d5d905a00ba3563d17435a62dbd6c9c742fe0e65c8623fa9fbe52eac862a73ca"},
	} {
		enc := c.Encode(tt.in)
		sum := sha256.Sum256(enc)
		if got := hex.EncodeToString(sum[:]); len(enc) != tt.size || got != tt.sum {
			t.Errorf("%s: %d plain bytes encode to %d bytes, sha256 %s; want %d bytes, sha256 %s", tt.name, len(tt.in), len(enc), got, tt.size, tt.sum)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	c := newCodec(t)
	raw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, compactwire.MaxPlainBytes+1)
	half := make([]byte, compactwire.MaxPlainBytes/2+1)
	compact := func(frames ...[]byte) []byte { return append([]byte{0, 1}, bytes.Join(frames, nil)...) }
	// A frame that does not declare its size, as a streaming encoder
	// writes it.
	var streamed bytes.Buffer
	sw, err := zstd.NewWriter(&streamed, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	good := c.Encode(batch(t, 5))
	for _, tt := range []struct {
		name string
		in   []byte
		want error
		bomb bool // a few bytes asking for too much
	}{
		{"no form", []byte{0}, compactwire.ErrMalformed, false},
		{"unknown form", []byte{0, 7, 1, 2}, compactwire.ErrMalformed, false},
		{"truncated frame", good[:len(good)/2], compactwire.ErrMalformed, false},
		{"not a frame", []byte{0, 1, 'n', 'o', 'p', 'e'}, compactwire.ErrMalformed, false},
		{"stored beyond the limit", append([]byte{0, 0}, zeros...), compactwire.ErrTooLarge, false},
		{"frame declaring more than the limit", compact(raw.EncodeAll(zeros, nil)), compactwire.ErrTooLarge, true},
		{"frame without declared size", compact(streamed.Bytes()), compactwire.ErrTooLarge, true},
		{"frames adding up beyond the limit", compact(raw.EncodeAll(half, nil), raw.EncodeAll(half, nil)), compactwire.ErrTooLarge, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.bomb && len(tt.in) > 4096 {
				t.Fatalf("the input is %d bytes: a bomb is small", len(tt.in))
			}
			got, err := c.Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %d bytes, %v; want %v", len(got), err, tt.want)
			}
		})
	}
}

// BenchmarkCodec measures a 50-task RegisterTasks request, encoded and
// decoded (the chaincode's answer and event are about as big and as
// repetitive).
func BenchmarkCodec(b *testing.B) {
	c := newCodec(b)
	plain := batch(b, 50)
	enc := c.Encode(plain)
	b.Run("Encode", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			c.Encode(plain)
		}
		b.ReportMetric(float64(len(plain))/float64(len(enc)), "ratio")
	})
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			if _, err := c.Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
