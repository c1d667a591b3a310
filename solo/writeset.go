package solo

import (
	"slices"
	"strings"

	"github.com/fedchain/orchestrator/solo/store"
)

// writeSet holds a transaction's buffered writes, one per key, the last
// write of a key winning. Writes usually arrive in increasing key order (a
// chaincode that flushes its buffered writes in key order, or a write
// batch, which the stub applies sorted): then the set is a plain sorted
// slice, with neither a map nor a sort. The first out-of-order key switches
// it to a slice plus a key index, sorted once when the batch is built.
type writeSet struct {
	list []store.Write
	// idx maps a key to its position in list; nil while list is sorted.
	idx map[string]int
}

func (ws *writeSet) len() int { return len(ws.list) }

// put records w, replacing an earlier write of the same key.
func (ws *writeSet) put(w store.Write) {
	n := len(ws.list)
	if ws.idx == nil {
		switch {
		case n == 0 || w.Key > ws.list[n-1].Key:
			ws.list = append(ws.list, w)
			return
		case w.Key == ws.list[n-1].Key:
			ws.list[n-1] = w
			return
		}
		if i, found := slices.BinarySearchFunc(ws.list, w.Key, compareWriteKey); found {
			ws.list[i] = w
			return
		}
		ws.idx = make(map[string]int, 2*n)
		for i, x := range ws.list {
			ws.idx[x.Key] = i
		}
	}
	if i, ok := ws.idx[w.Key]; ok {
		ws.list[i] = w
		return
	}
	ws.idx[w.Key] = n
	ws.list = append(ws.list, w)
}

// sorted returns the writes in key order (the set's own slice; the set
// stays usable).
func (ws *writeSet) sorted() []store.Write {
	if ws.idx != nil {
		slices.SortFunc(ws.list, func(a, b store.Write) int { return strings.Compare(a.Key, b.Key) })
		ws.idx = nil
	}
	return ws.list
}

func compareWriteKey(w store.Write, key string) int { return strings.Compare(w.Key, key) }
