package ledger

import (
	"github.com/fedchain/orchestrator/protos"
)

// PutFailureReport stores the failure report of its asset.
func PutFailureReport(l *Tx, fr *protos.FailureReport) error {
	return Put(l, FailureReportKind, fr.GetAssetKey(), fr)
}
