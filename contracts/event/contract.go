// Package event is the contract that lists the stored orchestration events
// ("orchestrator.event"). Subscribing to events is not a transaction: the
// facade serves it from the chaincode events of committed transactions.
package event

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// QueryEvents returns a page of events matching a filter, by time
// (QueryEventsParam -> QueryEventsResponse).
func (c *Contract) QueryEvents(ctx contractapi.TransactionContextInterface, req []byte) ([]byte, error) {
	return rpc.Serve(ctx, req, func(l *ledger.Tx, p *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
		return l.QueryEvents(p)
	})
}
