// Package solo runs a Hyperledger Fabric chaincode in-process, without a
// Fabric network, with the semantics a contract sees on a Fabric peer.
//
// A Peer executes a shim.Chaincode (for instance a contractapi
// ContractChaincode) against a stub that implements
// shim.ChaincodeStubInterface over a store.Store, one store per channel:
//
//	p := solo.New(cc, pebblestore.Opener(dir))
//	defer p.Close()
//	res, err := p.Submit(ctx, solo.Proposal{
//		Channel: "mychannel",
//		Creator: solo.Identity{MSPID: "Org1MSP"},
//		Args:    [][]byte{[]byte("CreateAsset"), []byte("a1")},
//	})
//
// # Transactions
//
// Submit simulates the transaction as an endorsing peer does — reads go to
// the committed state and never see the transaction's own writes, writes are
// buffered — then validates and commits it the way Fabric's committer does:
// if a key it read (or a range it scanned, phantom reads included) changed in
// the meantime, the transaction is a conflict (Fabric's MVCC_READ_CONFLICT /
// PHANTOM_READ_CONFLICT); solo re-executes it, up to WithMaxRetries times,
// and reports ErrConflict when it still conflicts. Commits are atomic (all
// writes and the chaincode event, or nothing) and durable with a durable
// store: once Submit returns, a crash loses nothing. Transactions execute
// concurrently; only the store's validate-and-commit step is serialized per
// channel (and grouped, for the embedded store).
//
// Evaluate simulates and returns the result without committing, like a
// Fabric gateway Evaluate.
//
// # The stub, compared with a Fabric peer
//
// Identical: argument access, GetTxID (the Fabric derivation:
// hex(SHA-256(nonce ‖ creator))), GetChannelID, GetTxTimestamp, GetCreator (a
// serialized msp.SerializedIdentity with an X.509 certificate; when the
// caller supplies none, a self-signed certificate is generated once per MSP
// id), GetTransient, GetBinding, GetSignedProposal (a well-formed proposal,
// with an empty signature), GetState, GetMultipleStates, PutState (an empty
// value deletes, as on Fabric), DelState, range scans (which exclude
// composite keys), partial composite-key scans, the paginated variants with
// Fabric's bookmark and QueryResponseMetadata (bookmark = the next key, ""
// when the range is exhausted; FetchedRecordsCount = records returned), the
// peer's total query limit (WithTotalQueryLimit, 100000 by default),
// composite-key creation and validation, SetEvent (one event per
// transaction, the last call wins), StartWriteBatch/FinishWriteBatch, and
// Fabric's rule that a transaction may not both write and run a paginated
// query.
//
// Not supported in solo mode (each returns an error, or a response with
// status 500 for InvokeChaincode, whose message says so):
//   - private data (GetPrivateData*, PutPrivateData, DelPrivateData,
//     PurgePrivateData, private data validation parameters),
//   - cross-chaincode invocation (InvokeChaincode),
//   - state-based endorsement (Set/GetStateValidationParameter),
//   - rich queries (GetQueryResult, GetQueryResultWithPagination),
//   - key history (GetHistoryForKey).
//
// GetDecorations returns an empty map. SplitCompositeKey returns an error for
// a string that is not a composite key, where the Fabric shim panics.
// Chaincode panics are recovered and reported as a ChaincodeError with
// status 500.
//
// # Events
//
// The chaincode event of every committed transaction is appended, in the
// same atomic commit, to the channel's durable event log. Events and
// ReadEvents read it from any position; Events follows new commits live.
package solo
