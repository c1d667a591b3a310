package computetask

import (
	"slices"
	"testing"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

func newTask(key string, parents ...string) *protos.NewComputeTask {
	t := &protos.NewComputeTask{Key: key}
	for _, p := range parents {
		t.Inputs = append(t.Inputs, parentIn("in", p, "out"))
	}
	return t
}

func keysOf(ts []*protos.NewComputeTask) []string {
	var ks []string
	for _, t := range ts {
		ks = append(ks, t.GetKey())
	}
	return ks
}

func TestRegistrationOrder(t *testing.T) {
	stored := func(k string) bool { return k == "old" }
	cases := []struct {
		name  string
		batch []*protos.NewComputeTask
		want  []string // nil: an error is expected
	}{
		{"empty", nil, []string{}},
		{"independent keep order", []*protos.NewComputeTask{newTask("b"), newTask("a")}, []string{"b", "a"}},
		{"child before parent", []*protos.NewComputeTask{newTask("c", "p"), newTask("p")}, []string{"p", "c"}},
		{"stored parent", []*protos.NewComputeTask{newTask("c", "old"), newTask("d", "c")}, []string{"c", "d"}},
		{"diamond", []*protos.NewComputeTask{newTask("d", "b", "c"), newTask("c", "a"), newTask("b", "a"), newTask("a")}, []string{"a", "c", "b", "d"}},
		{"same parent twice", []*protos.NewComputeTask{newTask("c", "p", "p"), newTask("p")}, []string{"p", "c"}},
		{"unknown parent", []*protos.NewComputeTask{newTask("c", "nowhere")}, nil},
		{"cycle", []*protos.NewComputeTask{newTask("a", "b"), newTask("b", "a"), newTask("free")}, nil},
		{"self parent", []*protos.NewComputeTask{newTask("a", "a")}, nil},
	}
	for _, c := range cases {
		got, err := registrationOrder(c.batch, stored)
		if c.want == nil {
			if orcerr.KindOf(err) != orcerr.InvalidAsset {
				t.Errorf("%s: err = %v, want an invalid asset error", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if ks := keysOf(got); !slices.Equal(ks, c.want) && !(len(ks) == 0 && len(c.want) == 0) {
			t.Errorf("%s: order %v, want %v", c.name, ks, c.want)
		}
	}
}

func BenchmarkRegistrationOrderChain(b *testing.B) {
	var batch []*protos.NewComputeTask
	prev := ""
	for i := range 100 {
		k := string(rune('a'+i%26)) + string(rune('0'+i/26))
		if prev == "" {
			batch = append(batch, newTask(k))
		} else {
			batch = append(batch, newTask(k, prev))
		}
		prev = k
	}
	slices.Reverse(batch)
	for b.Loop() {
		if _, err := registrationOrder(batch, func(string) bool { return false }); err != nil {
			b.Fatal(err)
		}
	}
}
