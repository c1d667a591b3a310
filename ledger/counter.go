package ledger

import (
	"encoding/binary"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// counterPrefix starts the object type of counter keys.
const counterPrefix = "counter~"

// count returns the value of the counter (name, attrs...) — 0 when it was
// never set. Counters live on point keys, so reading one is a single
// GetState where a scan would list every counted entry; but every
// transaction that changes a counter conflicts with the others doing so
// (MVCC), so keep them for values that change rarely or in one place.
func (l *Tx) count(name string, attrs ...string) (int64, error) {
	k, err := indexKey(counterPrefix+name, attrs...)
	if err != nil {
		return 0, err
	}
	b, err := l.GetState(k)
	if err != nil {
		return 0, orcerr.Wrap(orcerr.Internal, err, "read counter %s", name)
	}
	if b == nil {
		return 0, nil
	}
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, orcerr.New(orcerr.Internal, "corrupt counter %s", name)
	}
	return v, nil
}

// addCount adds delta to the counter (name, attrs...) and returns its new
// value. A counter back to 0 is deleted.
func (l *Tx) addCount(delta int64, name string, attrs ...string) (int64, error) {
	v, err := l.count(name, attrs...)
	if err != nil {
		return 0, err
	}
	v += delta
	k, _ := indexKey(counterPrefix+name, attrs...) // valid: Count built it
	if v == 0 {
		return 0, l.DelState(k)
	}
	return v, l.PutState(k, binary.AppendVarint(nil, v))
}
