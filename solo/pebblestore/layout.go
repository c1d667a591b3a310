package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/fedchain/orchestrator/solo/store"
)

// The key layout (see the package documentation): a first byte naming the
// space, then the state key or the event's big-endian position; a state
// value starts with its version.
const (
	spaceState = 's'
	spaceEvent = 'e'
	spaceMeta  = 'm'

	versionLen = 8
)

// keyTxNum holds the number of the last committed transaction.
var keyTxNum = []byte{spaceMeta, 't', 'x', 'n', 'u', 'm'}

// stateKey is the database key of state key.
func stateKey(key string) []byte {
	k := make([]byte, 1+len(key))
	k[0] = spaceState
	copy(k[1:], key)
	return k
}

// stateBounds are the database bounds of the state range [start, end).
func stateBounds(start, end string) (lower, upper []byte) {
	lower = stateKey(start)
	if end == "" {
		return lower, []byte{spaceState + 1}
	}
	return lower, stateKey(end)
}

func encodeEvent(e *store.Event) []byte {
	buf := make([]byte, 0, 2*binary.MaxVarintLen64+len(e.TxID)+len(e.Name)+len(e.Payload))
	buf = binary.AppendUvarint(buf, uint64(len(e.TxID)))
	buf = append(buf, e.TxID...)
	buf = binary.AppendUvarint(buf, uint64(len(e.Name)))
	buf = append(buf, e.Name...)
	return append(buf, e.Payload...)
}

func decodeEvent(seq uint64, b []byte) (store.Event, error) {
	e := store.Event{Seq: seq}
	field := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", errors.New("pebblestore: corrupt event record")
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	var err error
	if e.TxID, err = field(); err != nil {
		return e, err
	}
	if e.Name, err = field(); err != nil {
		return e, err
	}
	e.Payload = bytes.Clone(b)
	return e, nil
}
