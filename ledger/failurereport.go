package ledger

import (
	"github.com/fedchain/orchestrator/protos"
)

// GetFailureReport reads the failure report of asset key; OE0002 when
// there is none.
func GetFailureReport(l *Tx, assetKey string) (*protos.FailureReport, error) {
	return Get[protos.FailureReport](l, FailureReportKind, assetKey)
}

// PutFailureReport stores the failure report of its asset.
func PutFailureReport(l *Tx, fr *protos.FailureReport) error {
	return Put(l, FailureReportKind, fr.GetAssetKey(), fr)
}
