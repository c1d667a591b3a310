package computetask

import (
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registrationOrder orders a batch of new tasks so that every task comes
// after the tasks of the batch it depends on (Kahn's algorithm, stable: ties
// keep the order of the request). Parents for which stored reports true are
// already registered and impose nothing. A cycle, or a parent that is
// neither stored nor in the batch, makes the batch invalid.
func registrationOrder(batch []*protos.NewComputeTask, stored func(key string) bool) ([]*protos.NewComputeTask, error) {
	pending := make(map[string]int, len(batch))    // unsorted parents left, per task
	children := make(map[string][]int, len(batch)) // batch parent key -> indexes of its children
	inBatch := make(map[string]bool, len(batch))
	for _, t := range batch {
		inBatch[t.GetKey()] = true
	}
	var ready []int
	for i, t := range batch {
		n := 0
		for _, p := range ParentKeys(t.GetInputs()) {
			if stored(p) {
				continue
			}
			n++
			if inBatch[p] {
				children[p] = append(children[p], i)
			}
		}
		pending[t.GetKey()] = n
		if n == 0 {
			ready = append(ready, i)
		}
	}
	sorted := make([]*protos.NewComputeTask, 0, len(batch))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		t := batch[i]
		sorted = append(sorted, t)
		for _, c := range children[t.GetKey()] {
			k := batch[c].GetKey()
			pending[k]--
			if pending[k] == 0 {
				ready = append(ready, c)
			}
		}
	}
	if len(sorted) != len(batch) {
		return nil, orcerr.New(orcerr.InvalidAsset,
			"cyclic dependency in compute plan graph or unknown task parent, unsorted_tasks_count: %d", len(batch)-len(sorted))
	}
	return sorted, nil
}
