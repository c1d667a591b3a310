// Package datamanager is the contract of data managers
// ("orchestrator.datamanager"): the openers through which an organization
// exposes a dataset, with who may process it and who may read the logs of
// tasks that use it.
package datamanager

import (
	"github.com/fedchain/orchestrator/contracts/permission"
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerDataManager registers a data manager owned by the caller
// (NewDataManager -> DataManager).
func (c *Contract) registerDataManager(l *ledger.Tx, in *protos.NewDataManager) (rpc.Response[*protos.DataManager], error) {
	return rpc.AsCaller(l, in, register)
}

func validateNew(d *protos.NewDataManager) error {
	if err := validation.UUID("key", d.GetKey()); err != nil {
		return err
	}
	if err := validation.Name("name", d.GetName()); err != nil {
		return err
	}
	if err := validation.Present("new_permissions", d.GetNewPermissions() != nil); err != nil {
		return err
	}
	if err := validation.Addressable("description", d.GetDescription()); err != nil {
		return err
	}
	if err := validation.Addressable("opener", d.GetOpener()); err != nil {
		return err
	}
	if err := validation.Metadata("metadata", d.GetMetadata()); err != nil {
		return err
	}
	return validation.Present("logs_permission", d.GetLogsPermission() != nil)
}

func register(l *ledger.Tx, owner string, d *protos.NewDataManager) (*protos.DataManager, error) {
	if err := validateNew(d); err != nil {
		return nil, validation.Asset("datamanager", err)
	}
	exists, err := ledger.Exists(l, ledger.DataManagerKind, d.GetKey())
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, orcerr.New(orcerr.Conflict, "datamanager with key %q already exists", d.GetKey())
	}
	now, err := l.Now()
	if err != nil {
		return nil, err
	}
	dm := &protos.DataManager{
		Key:          d.GetKey(),
		Name:         d.GetName(),
		Owner:        owner,
		Description:  d.GetDescription(),
		Opener:       d.GetOpener(),
		Metadata:     d.GetMetadata(),
		CreationDate: now,
	}
	if dm.LogsPermission, err = permission.Create(l, owner, d.GetLogsPermission()); err != nil {
		return nil, err
	}
	if dm.Permissions, err = permission.CreatePermissions(l, owner, d.GetNewPermissions()); err != nil {
		return nil, err
	}
	if err := ledger.AddDataManager(l, dm); err != nil {
		return nil, err
	}
	err = l.Emit(&protos.Event{
		EventKind: protos.EventKind_EVENT_ASSET_CREATED,
		AssetKind: protos.AssetKind_ASSET_DATA_MANAGER,
		AssetKey:  dm.GetKey(),
		Asset:     &protos.Event_DataManager{DataManager: dm},
	})
	return dm, err
}

// getDataManager returns one data manager (GetDataManagerParam ->
// DataManager).
func (c *Contract) getDataManager(l *ledger.Tx, p *protos.GetDataManagerParam) (rpc.Response[*protos.DataManager], error) {
	return rpc.Encoded[*protos.DataManager](ledger.GetRaw(l, ledger.DataManagerKind, p.GetKey()))
}

// queryDataManagers returns a page of data managers by creation time
// (QueryDataManagersParam -> QueryDataManagersResponse).
func (c *Contract) queryDataManagers(l *ledger.Tx, p *protos.QueryDataManagersParam) (rpc.Response[*protos.QueryDataManagersResponse], error) {
	dms, next, err := ledger.QueryDataManagers(l, p.GetPageToken(), int(p.GetPageSize()))
	return rpc.Answer(&protos.QueryDataManagersResponse{DataManagers: dms, NextPageToken: next}, err)
}

// updateDataManager renames a data manager of the caller
// (UpdateDataManagerParam -> UpdateDataManagerResponse).
func (c *Contract) updateDataManager(l *ledger.Tx, in *protos.UpdateDataManagerParam) (rpc.Response[*protos.UpdateDataManagerResponse], error) {
	return rpc.AsCaller(l, in, update)
}

func update(l *ledger.Tx, caller string, p *protos.UpdateDataManagerParam) (*protos.UpdateDataManagerResponse, error) {
	if err := validation.UUID("key", p.GetKey()); err != nil {
		return nil, validation.Asset("datamanager", err)
	}
	if err := validation.Name("name", p.GetName()); err != nil {
		return nil, validation.Asset("datamanager", err)
	}
	dm, err := ledger.GetDataManager(l, p.GetKey())
	if err != nil {
		return nil, err
	}
	if dm.GetOwner() != caller {
		return nil, orcerr.New(orcerr.PermissionDenied, "requester does not own the data manager %s (requester %s)", dm.GetKey(), caller)
	}
	dm.Name = p.GetName()
	if err := ledger.UpdateDataManager(l, dm); err != nil {
		return nil, err
	}
	err = l.Emit(&protos.Event{
		EventKind: protos.EventKind_EVENT_ASSET_UPDATED,
		AssetKind: protos.AssetKind_ASSET_DATA_MANAGER,
		AssetKey:  dm.GetKey(),
		Asset:     &protos.Event_DataManager{DataManager: dm},
	})
	return &protos.UpdateDataManagerResponse{}, err
}
