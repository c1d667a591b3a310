// Package dataset is the contract that presents a data manager with its
// data samples ("orchestrator.dataset").
package dataset

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// GetDataset returns a data manager and the keys of its data samples, by
// sample creation time (GetDatasetParam -> Dataset).
func (c *Contract) GetDataset(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	return rpc.Serve(ctx, req, func(l *ledger.Tx, p *protos.GetDatasetParam) (*protos.Dataset, error) {
		dm, err := ledger.GetDataManager(l, p.GetKey())
		if err != nil {
			return nil, err
		}
		keys, err := ledger.DataSampleKeysByManager(l, p.GetKey())
		if err != nil {
			return nil, err
		}
		return &protos.Dataset{DataManager: dm, DataSampleKeys: keys}, nil
	})
}
