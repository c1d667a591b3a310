package solo

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/solo/store"
)

func TestWriteSet(t *testing.T) {
	tests := []struct {
		name string
		keys []string // written in this order; value = "<key>#<rank>"
		want []string // "key=value" in key order
	}{
		{"empty", nil, nil},
		{"sorted", []string{"a", "b", "c"}, []string{"a=a#0", "b=b#1", "c=c#2"}},
		{"repeat last", []string{"a", "b", "b"}, []string{"a=a#0", "b=b#2"}},
		{"repeat earlier while sorted", []string{"a", "b", "c", "a"}, []string{"a=a#3", "b=b#1", "c=c#2"}},
		{"out of order", []string{"c", "a", "b"}, []string{"a=a#1", "b=b#2", "c=c#0"}},
		{"out of order with repeats", []string{"b", "a", "b", "c", "a"}, []string{"a=a#4", "b=b#2", "c=c#3"}},
		{"sorted after switch", []string{"m", "a", "z", "n"}, []string{"a=a#1", "m=m#0", "n=n#3", "z=z#2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ws writeSet
			for i, k := range tt.keys {
				ws.put(store.Write{Key: k, Value: fmt.Appendf(nil, "%s#%d", k, i)})
			}
			var got []string
			for _, w := range ws.sorted() {
				got = append(got, w.Key+"="+string(w.Value))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if ws.len() != len(tt.want) {
				t.Errorf("len %d, want %d", ws.len(), len(tt.want))
			}
			// Still usable after sorted.
			ws.put(store.Write{Key: "zz"})
			if l := ws.sorted(); len(l) == 0 || l[len(l)-1].Key != "zz" || !slices.IsSortedFunc(l, func(a, b store.Write) int { return strings.Compare(a.Key, b.Key) }) {
				t.Errorf("after a later put: %v", l)
			}
		})
	}
}
