package validation

import "github.com/fedchain/orchestrator/protos/orcerr"

// Per-call caps of the batch transactions. They are checked by the
// contracts, so that every store (embedded, CouchDB) and Fabric accept the
// same calls: a call within them writes at most a few MB (see
// contracts/chaincode's TestBatchCapsFitOneDocument), under CouchDB's
// default max_document_size of 8 MB for the commit's journal entry, and
// far under Fabric's block and message limits. A call above them is
// InvalidAsset (InvalidArgument) and writes nothing.
const (
	// MaxBatchRequestBytes bounds the encoded request of a batch
	// transaction (RegisterTasks, RegisterDataSamples, UpdateDataSamples,
	// RegisterModels).
	MaxBatchRequestBytes = 512 << 10
	// MaxTasksPerCall bounds the tasks of one RegisterTasks.
	MaxTasksPerCall = 1000
	// MaxSamplesPerCall bounds the data samples of one RegisterDataSamples
	// or UpdateDataSamples.
	MaxSamplesPerCall = 1000
	// MaxModelsPerCall bounds the models of one RegisterModels.
	MaxModelsPerCall = 100
)

// BatchRequest fails when a batch transaction's request is larger than
// MaxBatchRequestBytes.
func BatchRequest(tx string, size int) error {
	if size > MaxBatchRequestBytes {
		return orcerr.New(orcerr.InvalidAsset, "%s: request of %d bytes exceeds the maximum of %d bytes per call: split it into several calls", tx, size, MaxBatchRequestBytes)
	}
	return nil
}

// BatchLen fails when a batch holds more than max items.
func BatchLen(field string, n, max int) error {
	if n > max {
		return invalid(field, "%d items exceed the maximum of %d per call: split them into several calls", n, max)
	}
	return nil
}
