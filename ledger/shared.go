package ledger

import (
	"bytes"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// sharedLimit bounds the records a decodeCache holds; past it, the cache
// starts over (a network has far fewer functions than that).
const sharedLimit = 4096

// decodeCache keeps, across transactions, the last decoded message of
// each state key with the record it was decoded from. Decoding is a pure
// function of the record, so a transaction that reads the same record
// again (it still reads it through its stub: the read is recorded and
// validated as any other) may take the decoded message instead of
// decoding it again. The messages are shared by every transaction of the
// process: nobody may modify them.
type decodeCache[M any, P message[M]] struct {
	m sync.Map // state key -> decoded[P]
	n atomic.Int64
}

type decoded[P any] struct {
	raw []byte
	msg P
}

// decode returns the message of record b, stored at state key sk.
func (c *decodeCache[M, P]) decode(sk string, b []byte) (P, error) {
	if v, ok := c.m.Load(sk); ok {
		if d := v.(decoded[P]); bytes.Equal(d.raw, b) {
			return d.msg, nil
		}
	}
	m := P(new(M))
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, err
	}
	if c.n.Add(1) > sharedLimit {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(sk, decoded[P]{raw: slices.Clone(b), msg: m})
	return m, nil
}

// functions caches decoded function records: every task of a batch names
// its function, and a batch names dozens of them.
var functions decodeCache[protos.Function, *protos.Function]

// SharedFunction reads function key like GetFunction, but may return a
// function decoded by an earlier transaction from the same record, shared
// with other transactions: the caller must not modify it.
func SharedFunction(l *Tx, key string) (*protos.Function, error) {
	sk, err := FunctionKind.Key(key)
	if err != nil {
		return nil, err
	}
	b, err := l.GetState(sk)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read %s %s", FunctionKind.Noun, key)
	}
	if b == nil {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", FunctionKind.Noun, key)
	}
	f, err := functions.decode(sk, b)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "decode %s %s", FunctionKind.Noun, key)
	}
	return f, nil
}
