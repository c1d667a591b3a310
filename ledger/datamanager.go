package ledger

import (
	"github.com/fedchain/orchestrator/protos"
)

// dataManagerTimeIndex lists data managers by creation time then key.
const dataManagerTimeIndex = "datamanager~time"

// GetDataManager reads data manager key; OE0002 when unknown.
func GetDataManager(l *Tx, key string) (*protos.DataManager, error) {
	return Get[protos.DataManager](l, DataManagerKind, key)
}

// AddDataManager stores a new data manager and indexes it.
func AddDataManager(l *Tx, dm *protos.DataManager) error {
	if err := Put(l, DataManagerKind, dm.GetKey(), dm); err != nil {
		return err
	}
	return l.putIndex(dataManagerTimeIndex, sortTime(dm.GetCreationDate()), dm.GetKey())
}

// UpdateDataManager stores a changed data manager (key and creation date
// unchanged).
func UpdateDataManager(l *Tx, dm *protos.DataManager) error {
	return Put(l, DataManagerKind, dm.GetKey(), dm)
}

// QueryDataManagers returns a page of data managers by creation time then
// key (evaluate only).
func QueryDataManagers(l *Tx, token string, size int) ([]*protos.DataManager, string, error) {
	return queryAssets[protos.DataManager](l, DataManagerKind, dataManagerTimeIndex, nil, token, size)
}
