package ledger

import (
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Kind names a kind of asset in the state. Object is the object type of
// its composite keys (the record of asset k lives at the composite key
// (Object, k)); Noun is how error messages name it: the asset kind name of
// the reference orchestrator ("computetask", "datamanager"), which its
// clients look for in "<kind> with key \"<key>\" not found".
type Kind struct {
	Object string
	Noun   string
	// compact says that keys are written in their compact form
	// (appendKey) in the state key.
	compact bool
}

// The asset kinds stored by the contracts of this module. The compute
// task, compute plan, model and performance kinds are declared beside
// their accessors.
var (
	OrganizationKind  = Kind{Object: "organization", Noun: "organization"}
	FunctionKind      = Kind{Object: "function", Noun: "function"}
	DataManagerKind   = Kind{Object: "datamanager", Noun: "datamanager"}
	DataSampleKind    = Kind{Object: "datasample", Noun: "datasample"}
	FailureReportKind = Kind{Object: "failurereport", Noun: "failure report"}
	ProfilingKind     = Kind{Object: "profiling", Noun: "profiling_step"}
)

// Key returns the state key of the asset of kind k with the given key.
func (k Kind) Key(key string) (string, error) {
	if k.compact && ctCheckAttr(key) == nil {
		key = keyAttr(key)
	}
	sk, err := compositeKey(k.Object, key)
	if err != nil {
		return "", orcerr.Wrap(orcerr.InvalidAsset, err, "invalid %s key %q", k.Noun, key)
	}
	return sk, nil
}

// message is a proto message type *M, so that Get can allocate one.
type message[M any] interface {
	*M
	proto.Message
}

// Marshal encodes m deterministically, as every record, event and response
// of the chaincode is encoded: every endorser produces the same bytes.
func Marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// Get reads the asset of kind k with the given key; OE0002 "<noun> <key>
// not found" when absent.
func Get[M any, P message[M]](l *Tx, k Kind, key string) (P, error) {
	m, ok, err := Lookup[M, P](l, k, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", k.Noun, key)
	}
	return m, nil
}

// Lookup reads the asset of kind k with the given key; ok is false when
// it does not exist.
func Lookup[M any, P message[M]](l *Tx, k Kind, key string) (m P, ok bool, err error) {
	sk, err := k.Key(key)
	if err != nil {
		return nil, false, err
	}
	b, err := l.GetState(sk)
	if err != nil {
		return nil, false, orcerr.Wrap(orcerr.Internal, err, "read %s %s", k.Noun, key)
	}
	if b == nil {
		return nil, false, nil
	}
	m = P(new(M))
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, false, orcerr.Wrap(orcerr.Internal, err, "decode %s %s", k.Noun, key)
	}
	return m, true, nil
}

// GetMany reads the assets of kind k with the given keys in one batch. The
// result has one entry per key, nil where the asset does not exist.
func GetMany[M any, P message[M]](l *Tx, k Kind, keys []string) ([]P, error) {
	sks := make([]string, len(keys))
	for i, key := range keys {
		sk, err := k.Key(key)
		if err != nil {
			return nil, err
		}
		sks[i] = sk
	}
	vals, err := l.GetMultipleStates(sks...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read %s records", k.Noun)
	}
	out := make([]P, len(keys))
	for i, b := range vals {
		if b == nil {
			continue
		}
		m := P(new(M))
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode %s %s", k.Noun, keys[i])
		}
		out[i] = m
	}
	return out, nil
}

// Preload reads the records of kind k with the given keys into the
// transaction's cache in one stub call, so that reading them afterwards
// (Get, Lookup, SharedFunction...) costs no stub call: on a peer, every
// stub call is a round trip to it. Keys that are not valid are skipped
// (reading them fails later, where the caller expects it).
func Preload(l *Tx, k Kind, keys []string) error {
	sks := make([]string, 0, len(keys))
	for _, key := range keys {
		if sk, err := k.Key(key); err == nil {
			sks = append(sks, sk)
		}
	}
	if len(sks) == 0 {
		return nil
	}
	if _, err := l.GetMultipleStates(sks...); err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "read %s records", k.Noun)
	}
	return nil
}

// GetAll is GetMany that fails with OE0002 naming the first missing key.
func GetAll[M any, P message[M]](l *Tx, k Kind, keys []string) ([]P, error) {
	out, err := GetMany[M, P](l, k, keys)
	if err != nil {
		return nil, err
	}
	for i, m := range out {
		if m == nil {
			return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", k.Noun, keys[i])
		}
	}
	return out, nil
}

// Exists reports whether the asset of kind k with the given key exists.
func Exists(l *Tx, k Kind, key string) (bool, error) {
	sk, err := k.Key(key)
	if err != nil {
		return false, err
	}
	b, err := l.GetState(sk)
	if err != nil {
		return false, orcerr.Wrap(orcerr.Internal, err, "read %s %s", k.Noun, key)
	}
	return b != nil, nil
}

// Put stores m as the asset of kind k with the given key (binary proto).
func Put(l *Tx, k Kind, key string, m proto.Message) error {
	_, err := put(l, k, key, m)
	return err
}

// put is Put that returns the stored record.
func put(l *Tx, k Kind, key string, m proto.Message) ([]byte, error) {
	sk, err := k.Key(key)
	if err != nil {
		return nil, err
	}
	b, err := Marshal(m)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "encode %s %s", k.Noun, key)
	}
	if err := l.PutState(sk, b); err != nil {
		return nil, err
	}
	return b, nil
}

// GetRaw returns the stored bytes of the asset of kind k with the given key
// (OE0002 when absent). They are the deterministic binary encoding of the
// asset, so a read-only transaction can return them as its response
// without decoding and encoding the asset again.
func GetRaw(l *Tx, k Kind, key string) ([]byte, error) {
	sk, err := k.Key(key)
	if err != nil {
		return nil, err
	}
	b, err := l.GetState(sk)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read %s %s", k.Noun, key)
	}
	if b == nil {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", k.Noun, key)
	}
	return b, nil
}
