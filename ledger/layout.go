package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// The state layout of this version (eventLogVersion, the task objects of
// computetask.go) replaced an older one, which stored every event under
// "event\x00...", tasks under "computetask" and their indexes under "ct~".
// Nothing written in that layout is read by this version, so a channel
// that holds it would answer as if it were empty or had lost data. Reads
// that would answer wrongly fail instead: a log entry that is not of
// eventLogVersion fails the walk that meets it (the former event keys lie
// in the log's key range), and the first page of QueryEvents and a GetTask
// that finds nothing look for a former event entry (every former
// transaction with an event wrote one). Update transactions do not look:
// on Fabric every key they read is carried in the transaction.

// formerEvents is the key range of the events of the former layout.
const (
	formerEventsStart = "event\x00"
	formerEventsEnd   = "event\x01"
)

// checkLayout fails when the state holds data of the former layout. It
// uses a paginated scan, which only evaluate transactions may: where the
// stub refuses it, it checks nothing (what the caller reads next reports a
// failing store).
func checkLayout(stub shim.ChaincodeStubInterface) error {
	it, _, err := stub.GetStateByRangeWithPagination(formerEventsStart, formerEventsEnd, 1, "")
	if err != nil {
		return nil
	}
	defer it.Close()
	if it.HasNext() {
		return orcerr.New(orcerr.Internal, "the channel's state was written by an older version of the orchestrator, whose layout this version does not read (events under %q); it holds no data this version can serve", formerEventsStart)
	}
	return nil
}
