package ledger

import (
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// AddComputeTaskOutputAsset records that an asset fills a task output, at
// position pos among the assets of that output.
func AddComputeTaskOutputAsset(stub shim.ChaincodeStubInterface, a *protos.ComputeTaskOutputAsset, pos int) error {
	k, err := ctKey(stub, taskOutputIndex, a.GetComputeTaskKey(), a.GetComputeTaskOutputIdentifier(), fmt.Sprintf("%06d", pos))
	if err != nil {
		return err
	}
	b, err := Marshal(a)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode output asset")
	}
	return ctPut(stub, k, b)
}

// ComputeTaskOutputAssets lists the assets registered for a task output,
// in registration order; with an empty identifier, those of every output
// (by identifier, then registration order).
func ComputeTaskOutputAssets(stub shim.ChaincodeStubInterface, task, identifier string) ([]*protos.ComputeTaskOutputAsset, error) {
	attrs := []string{task}
	if identifier != "" {
		attrs = append(attrs, identifier)
	}
	it, err := stub.GetStateByPartialCompositeKey(taskOutputIndex, attrs)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan task outputs")
	}
	defer it.Close()
	var out []*protos.ComputeTaskOutputAsset
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "scan task outputs")
		}
		a := new(protos.ComputeTaskOutputAsset)
		if err := proto.Unmarshal(kv.GetValue(), a); err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode output asset")
		}
		out = append(out, a)
	}
	return out, nil
}
