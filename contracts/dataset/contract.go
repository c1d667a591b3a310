// Package dataset is the contract that presents a data manager with its
// data samples ("orchestrator.dataset").
package dataset

import (
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// getDataset returns a data manager and the keys of its data samples, by
// sample creation time (GetDatasetParam -> Dataset).
func (c *Contract) getDataset(l *ledger.Tx, p *protos.GetDatasetParam) (rpc.Response[*protos.Dataset], error) {
	dm, err := ledger.GetDataManager(l, p.GetKey())
	if err != nil {
		return rpc.Response[*protos.Dataset]{}, err
	}
	keys, err := ledger.DataSampleKeysByManager(l, p.GetKey())
	return rpc.Answer(&protos.Dataset{DataManager: dm, DataSampleKeys: keys}, err)
}
