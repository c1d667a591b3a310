package ledger

import (
	"encoding/base64"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Data sample indexes: (datasample~time, <time>, <key>) lists all samples
// by creation time then key; (datasample~manager, <manager>, <time>, <key>)
// lists the samples linked to a data manager in the same order.
const (
	dataSampleTimeIndex    = "datasample~time"
	dataSampleManagerIndex = "datasample~manager"
)

// GetDataSample reads data sample key; OE0002 when unknown.
func GetDataSample(l *Tx, key string) (*protos.DataSample, error) {
	return Get[protos.DataSample](l, DataSampleKind, key)
}

// StoreNewDataSample is AddDataSample that also returns the stored record,
// the sample's deterministic encoding, for the caller to reuse (event,
// response) instead of encoding the sample again. The record must not be
// modified.
func StoreNewDataSample(l *Tx, ds *protos.DataSample) ([]byte, error) {
	b, err := put(l, DataSampleKind, ds.GetKey(), ds)
	if err != nil {
		return nil, err
	}
	ts := sortTime(ds.GetCreationDate())
	if err := l.putIndex(dataSampleTimeIndex, ts, ds.GetKey()); err != nil {
		return nil, err
	}
	for _, dm := range ds.GetDataManagerKeys() {
		if err := l.putIndex(dataSampleManagerIndex, dm, ts, ds.GetKey()); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// UpdateDataSample stores a changed data sample whose previous data
// manager keys were old, and moves its manager index entries.
func UpdateDataSample(l *Tx, ds *protos.DataSample, old []string) error {
	if err := Put(l, DataSampleKind, ds.GetKey(), ds); err != nil {
		return err
	}
	ts := sortTime(ds.GetCreationDate())
	for _, dm := range old {
		if !slices.Contains(ds.GetDataManagerKeys(), dm) {
			if err := l.delIndex(dataSampleManagerIndex, dm, ts, ds.GetKey()); err != nil {
				return err
			}
		}
	}
	for _, dm := range ds.GetDataManagerKeys() {
		if !slices.Contains(old, dm) {
			if err := l.putIndex(dataSampleManagerIndex, dm, ts, ds.GetKey()); err != nil {
				return err
			}
		}
	}
	return nil
}

// DataSampleRecords reads the stored records of data samples in one batch,
// in the order of keys (nil for an unknown sample or an invalid key, which
// the caller reports when it reads the sample itself), for
// DataSampleRecordHasManager. Unlike GetDataSamples it neither decodes
// them nor keeps them in the transaction's read cache: a task batch checks
// hundreds of samples once each, and caching them would only grow the
// cache. The stub records the reads as usual.
func DataSampleRecords(l *Tx, keys []string) ([][]byte, error) {
	sks := make([]string, 0, len(keys))
	var at []int // positions of the valid keys, once one is invalid
	for i, key := range keys {
		sk, err := DataSampleKind.Key(key)
		if err != nil {
			if at == nil {
				at = make([]int, i, len(keys))
				for j := range i {
					at[j] = j
				}
			}
			continue
		}
		sks = append(sks, sk)
		if at != nil {
			at = append(at, i)
		}
	}
	vals, err := l.GetMultipleStatesUncached(sks...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read %s records", DataSampleKind.Noun)
	}
	if at == nil {
		return vals, nil
	}
	out := make([][]byte, len(keys))
	for j, i := range at {
		out[i] = vals[j]
	}
	return out, nil
}

// DataSampleKeysByManager returns the keys of the samples linked to data
// manager dm, by creation time then key (unpaginated).
func DataSampleKeysByManager(l *Tx, dm string) ([]string, error) {
	return l.indexLast(dataSampleManagerIndex, dm)
}

// QueryDataSamples returns a page of data samples by creation time then
// key, only those in keys when it is not empty (evaluate only).
func QueryDataSamples(l *Tx, keys []string, token string, size int) ([]*protos.DataSample, string, error) {
	if len(keys) == 0 {
		return queryAssets[protos.DataSample](l, DataSampleKind, dataSampleTimeIndex, nil, token, size)
	}
	// A key filter is served by point reads: the requested samples are
	// sorted like the index and the token is the sort key of the next one.
	found, err := GetMany[protos.DataSample](l, DataSampleKind, slices.Compact(slices.Sorted(slices.Values(keys))))
	if err != nil {
		return nil, "", err
	}
	type item struct {
		sort string
		ds   *protos.DataSample
	}
	var items []item
	for _, ds := range found {
		if ds != nil {
			items = append(items, item{sortTime(ds.GetCreationDate()) + "\x00" + ds.GetKey(), ds})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.sort, b.sort) })
	from := ""
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", orcerr.New(orcerr.BadRequest, "invalid page token %q", token)
		}
		from = string(b)
	}
	if size <= 0 {
		size = defaultPageSize
	}
	var out []*protos.DataSample
	for _, it := range items {
		if it.sort < from {
			continue
		}
		if len(out) == size {
			return out, encodeToken(it.sort), nil
		}
		out = append(out, it.ds)
	}
	return out, "", nil
}

// DataSampleHasManager reports whether data sample key is linked to data
// manager dm; OE0002 when the sample is unknown. It reads the stored
// record like GetDataSample but decodes only its data manager keys
// (field 2), which is all that checking a task input needs.
func DataSampleHasManager(l *Tx, key, dm string) (bool, error) {
	sk, err := DataSampleKind.Key(key)
	if err != nil {
		return false, err
	}
	b, err := l.GetState(sk)
	if err != nil {
		return false, orcerr.Wrap(orcerr.Internal, err, "read %s %s", DataSampleKind.Noun, key)
	}
	if b == nil {
		return false, orcerr.New(orcerr.NotFound, "%s with key %q not found", DataSampleKind.Noun, key)
	}
	return DataSampleRecordHasManager(key, b, dm)
}

// DataSampleRecordHasManager is DataSampleHasManager on the stored record b
// of data sample key, already read (DataSampleRecords).
func DataSampleRecordHasManager(key string, b []byte, dm string) (bool, error) {
	managers := dataSampleManagersField()
	found := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false, orcerr.Wrap(orcerr.Internal, protowire.ParseError(n), "decode %s %s", DataSampleKind.Noun, key)
		}
		b = b[n:]
		if num == managers && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return false, orcerr.Wrap(orcerr.Internal, protowire.ParseError(m), "decode %s %s", DataSampleKind.Noun, key)
			}
			if string(v) == dm {
				found = true
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return false, orcerr.Wrap(orcerr.Internal, protowire.ParseError(m), "decode %s %s", DataSampleKind.Noun, key)
		}
		b = b[m:]
	}
	return found, nil
}

// dataSampleManagersField is the number of DataSample.data_manager_keys, as
// the .proto file states it.
func dataSampleManagersField() protowire.Number {
	return (*protos.DataSample)(nil).ProtoReflect().Descriptor().Fields().ByName("data_manager_keys").Number()
}
