package failurereport

import (
	"github.com/fedchain/orchestrator/contracts/computetask"
	"github.com/fedchain/orchestrator/ledger"
)

// failTask moves a compute task whose execution failed to FAILED; only its
// worker may report it, while it is EXECUTING (the compute task rules
// check and apply it).
func failTask(l *ledger.Tx, key, caller string) error {
	return computetask.FailFromReport(l, key, caller)
}
