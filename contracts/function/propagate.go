package function

import (
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
)

// propagateFunctionStatus moves the tasks that use a function after its
// status changed (the compute task rules own how).
func propagateFunctionStatus(l *ledger.Tx, key string, status protos.FunctionStatus, reason string) error {
	return computetask.PropagateFunctionStatus(l, key, status, reason)
}
