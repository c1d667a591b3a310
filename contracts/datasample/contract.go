// Package datasample is the contract of data samples
// ("orchestrator.datasample"): an organization registers its samples and
// links them to its data managers.
package datasample

import (
	"fmt"
	"slices"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// checkOwner fails unless every data manager in keys exists (OE0002) and is
// owned by owner (OE0102).
func checkOwner(l *ledger.Tx, keys []string, owner string) error {
	if len(keys) == 0 {
		return nil
	}
	dms, err := ledger.GetAll[protos.DataManager](l, ledger.DataManagerKind, keys)
	if err != nil {
		return err
	}
	for _, dm := range dms {
		if dm.GetOwner() != owner {
			return orcerr.New(orcerr.PermissionDenied, "requester does not own the datamanager %q (requester %s)", dm.GetKey(), owner)
		}
	}
	return nil
}

// registerDataSamples registers a batch of data samples owned by the
// caller (RegisterDataSamplesParam -> RegisterDataSamplesResponse); all or
// none.
func (c *Contract) registerDataSamples(l *ledger.Tx, in *protos.RegisterDataSamplesParam) (rpc.Response[*protos.RegisterDataSamplesResponse], error) {
	var none rpc.Response[*protos.RegisterDataSamplesResponse]
	caller, err := l.Caller()
	if err != nil {
		return none, err
	}
	records, err := register(l, caller, in)
	if err != nil {
		return none, err
	}
	// The response lists the samples, whose records are their encodings.
	return rpc.Records[*protos.RegisterDataSamplesResponse]("data_samples", records)
}

func validateNew(i int, s *protos.NewDataSample) error {
	// What is valid does not depend on the field names: they are built
	// only to report an error (a batch has hundreds of samples).
	if validateFields(s, func(string) string { return "" }) == nil {
		return nil
	}
	return validateFields(s, func(name string) string { return fmt.Sprintf("samples[%d].%s", i, name) })
}

// validateFields checks a new sample, naming its fields with field.
func validateFields(s *protos.NewDataSample, field func(name string) string) error {
	if err := validation.UUID(field("key"), s.GetKey()); err != nil {
		return err
	}
	if err := validation.UUIDs(field("data_manager_keys"), s.GetDataManagerKeys()); err != nil {
		return err
	}
	return validation.Checksum(field("checksum"), s.GetChecksum())
}

// register stores the samples of p for owner and returns their records.
func register(l *ledger.Tx, owner string, p *protos.RegisterDataSamplesParam) ([][]byte, error) {
	if len(p.GetSamples()) == 0 {
		return nil, orcerr.New(orcerr.InvalidAsset, "invalid samples: cannot be blank")
	}
	if err := validation.BatchLen("samples", len(p.GetSamples()), validation.MaxSamplesPerCall); err != nil {
		return nil, err
	}
	keys := make([]string, len(p.GetSamples()))
	var managers []string
	for i, s := range p.GetSamples() {
		if err := validateNew(i, s); err != nil {
			return nil, validation.Asset("datasample", err)
		}
		if slices.Contains(keys[:i], s.GetKey()) {
			return nil, orcerr.New(orcerr.Conflict, "data sample %s appears twice in the request", s.GetKey())
		}
		keys[i] = s.GetKey()
		for _, dm := range s.GetDataManagerKeys() {
			if !slices.Contains(managers, dm) {
				managers = append(managers, dm)
			}
		}
	}
	if err := checkOwner(l, managers, owner); err != nil {
		return nil, err
	}
	existing, err := ledger.GetMany[protos.DataSample](l, ledger.DataSampleKind, keys)
	if err != nil {
		return nil, err
	}
	for i, e := range existing {
		if e != nil {
			return nil, orcerr.New(orcerr.Conflict, "datasample with key %q already exists", keys[i])
		}
	}
	now, err := l.Now()
	if err != nil {
		return nil, err
	}
	// A sample's record, event and index entries: seven keys.
	l.Grow(8 * len(p.GetSamples()))
	records := make([][]byte, 0, len(p.GetSamples()))
	for _, s := range p.GetSamples() {
		ds := &protos.DataSample{
			Key:             s.GetKey(),
			DataManagerKeys: s.GetDataManagerKeys(),
			Owner:           owner,
			Checksum:        s.GetChecksum(),
			CreationDate:    now,
		}
		b, err := ledger.StoreNewDataSample(l, ds)
		if err != nil {
			return nil, err
		}
		// The event and the response reuse the record, the sample's
		// encoding, which does not change in this transaction.
		if err := l.EmitEncoded(&protos.Event{
			EventKind: protos.EventKind_EVENT_ASSET_CREATED,
			AssetKind: protos.AssetKind_ASSET_DATA_SAMPLE,
			AssetKey:  ds.GetKey(),
			Asset:     &protos.Event_DataSample{DataSample: ds},
		}, b); err != nil {
			return nil, err
		}
		records = append(records, b)
	}
	return records, nil
}

func emit(l *ledger.Tx, kind protos.EventKind, ds *protos.DataSample) error {
	return l.Emit(&protos.Event{
		EventKind: kind,
		AssetKind: protos.AssetKind_ASSET_DATA_SAMPLE,
		AssetKey:  ds.GetKey(),
		Asset:     &protos.Event_DataSample{DataSample: ds},
	})
}

// updateDataSamples links data samples of the caller to more data managers
// of the caller (UpdateDataSamplesParam -> UpdateDataSamplesResponse).
func (c *Contract) updateDataSamples(l *ledger.Tx, in *protos.UpdateDataSamplesParam) (rpc.Response[*protos.UpdateDataSamplesResponse], error) {
	return rpc.AsCaller(l, in, update)
}

func update(l *ledger.Tx, owner string, p *protos.UpdateDataSamplesParam) (*protos.UpdateDataSamplesResponse, error) {
	if len(p.GetKeys()) == 0 {
		return nil, orcerr.New(orcerr.InvalidAsset, "invalid keys: cannot be blank")
	}
	if err := validation.BatchLen("keys", len(p.GetKeys()), validation.MaxSamplesPerCall); err != nil {
		return nil, err
	}
	if err := validation.UUIDs("keys", p.GetKeys()); err != nil {
		return nil, validation.Asset("datasample", err)
	}
	if err := validation.UUIDs("data_manager_keys", p.GetDataManagerKeys()); err != nil {
		return nil, validation.Asset("datasample", err)
	}
	if err := checkOwner(l, p.GetDataManagerKeys(), owner); err != nil {
		return nil, err
	}
	var done []string
	for _, key := range p.GetKeys() {
		if slices.Contains(done, key) {
			continue
		}
		done = append(done, key)
		ds, err := ledger.GetDataSample(l, key)
		if err != nil {
			return nil, err
		}
		if ds.GetOwner() != owner {
			return nil, orcerr.New(orcerr.PermissionDenied, "requester does not own the datasample %s (requester %s)", key, owner)
		}
		old := ds.GetDataManagerKeys()
		merged := slices.Clone(old)
		for _, dm := range p.GetDataManagerKeys() {
			if !slices.Contains(merged, dm) {
				merged = append(merged, dm)
			}
		}
		ds.DataManagerKeys = merged
		if err := ledger.UpdateDataSample(l, ds, old); err != nil {
			return nil, err
		}
		if err := emit(l, protos.EventKind_EVENT_ASSET_UPDATED, ds); err != nil {
			return nil, err
		}
	}
	return &protos.UpdateDataSamplesResponse{}, nil
}

// getDataSample returns one data sample (GetDataSampleParam -> DataSample).
func (c *Contract) getDataSample(l *ledger.Tx, p *protos.GetDataSampleParam) (rpc.Response[*protos.DataSample], error) {
	return rpc.Encoded[*protos.DataSample](ledger.GetRaw(l, ledger.DataSampleKind, p.GetKey()))
}

// queryDataSamples returns a page of data samples by creation time,
// optionally only those with given keys (QueryDataSamplesParam ->
// QueryDataSamplesResponse).
func (c *Contract) queryDataSamples(l *ledger.Tx, p *protos.QueryDataSamplesParam) (rpc.Response[*protos.QueryDataSamplesResponse], error) {
	dss, next, err := ledger.QueryDataSamples(l, p.GetFilter().GetKeys(), p.GetPageToken(), int(p.GetPageSize()))
	return rpc.Answer(&protos.QueryDataSamplesResponse{DataSamples: dss, NextPageToken: next}, err)
}
