package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// AddComputeTaskOutputAsset records that an asset fills a task output, at
// position pos among the assets of that output. The entry's key gives the
// task and the output, its value the asset's kind and key.
func AddComputeTaskOutputAsset(stub shim.ChaincodeStubInterface, a *protos.ComputeTaskOutputAsset, pos int) error {
	task, id := a.GetComputeTaskKey(), a.GetComputeTaskOutputIdentifier()
	for _, s := range [...]string{task, id} {
		if err := ctCheckAttr(s); err != nil {
			return err
		}
	}
	if pos < 0 {
		return orcerr.New(orcerr.Internal, "output asset position %d", pos)
	}
	b, err := Marshal(&protos.ComputeTaskOutputAsset{AssetKind: a.GetAssetKind(), AssetKey: a.GetAssetKey()})
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode output asset")
	}
	if len(b) == 0 {
		b = marker // an empty value is a deletion
	}
	return ctPut(stub, ctJoin(taskOutputIndex, keyAttr(task), id, string(appendCount(nil, pos))), b)
}

// ComputeTaskOutputAssets lists the assets registered for a task output,
// in registration order; with an empty identifier, those of every output
// (by identifier, then registration order).
func ComputeTaskOutputAssets(stub shim.ChaincodeStubInterface, task, identifier string) ([]*protos.ComputeTaskOutputAsset, error) {
	attrs := []string{keyAttr(task)}
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
		_, parts, err := stub.SplitCompositeKey(kv.GetKey())
		if err != nil || len(parts) != 3 {
			return nil, orcerr.New(orcerr.Internal, "bad task output entry %q", kv.GetKey())
		}
		a := new(protos.ComputeTaskOutputAsset)
		if v := kv.GetValue(); len(v) != 1 || v[0] != marker[0] {
			if err := proto.Unmarshal(v, a); err != nil {
				return nil, orcerr.Wrap(orcerr.Internal, err, "decode output asset")
			}
		}
		a.ComputeTaskKey, a.ComputeTaskOutputIdentifier = task, parts[1]
		out = append(out, a)
	}
	return out, nil
}
