package solo

import (
	"errors"
	"fmt"

	"github.com/fedchain/orchestrator/solo/store"
)

// ErrConflict is returned (wrapped) by Submit when the transaction still
// conflicted with concurrent commits after the configured retries. It is the
// same value as store.ErrConflict.
var ErrConflict = store.ErrConflict

// ErrUnsupported is wrapped by the errors of stub methods that solo does not
// support (private data, rich queries, key history, state-based endorsement).
var ErrUnsupported = errors.New("not supported in solo mode")

// ErrClosed is returned by a Peer after Close.
var ErrClosed = errors.New("solo: peer closed")

// ChaincodeError is the error of a transaction whose chaincode returned an
// error response (status >= 400, as Fabric's endorser treats it). Nothing was
// committed.
type ChaincodeError struct {
	TxID    string
	Status  int32
	Message string
}

// Error returns the chaincode's message with its status.
func (e *ChaincodeError) Error() string {
	return fmt.Sprintf("chaincode response %d: %s", e.Status, e.Message)
}

func unsupported(what string) error {
	return fmt.Errorf("%s: %w", what, ErrUnsupported)
}
