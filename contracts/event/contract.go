// Package event is the contract that lists the stored orchestration events
// ("orchestrator.event"). Subscribing to events is not a transaction: the
// facade serves it from the chaincode events of committed transactions.
package event

import (
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// queryEvents returns a page of events matching a filter, by time
// (QueryEventsParam -> QueryEventsResponse), encoded by the ledger from the
// stored bytes.
func (c *Contract) queryEvents(l *ledger.Tx, p *protos.QueryEventsParam) (rpc.Response[*protos.QueryEventsResponse], error) {
	return rpc.Encoded[*protos.QueryEventsResponse](l.QueryEventsEncoded(p))
}
