package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Models are stored under (model, key). The models of a task are found
// through the task's output assets (see AddComputeTaskOutputAsset).
const modelObject = "model"

// ModelKind is where model records live (stored as the Model message
// itself).
var ModelKind = Kind{Object: modelObject, Noun: "model"}

// GetModel reads one model; OE0002 when absent.
func GetModel(stub shim.ChaincodeStubInterface, key string) (*protos.Model, error) {
	ms, err := GetModels(stub, []string{key})
	if err != nil {
		return nil, err
	}
	m, ok := ms[key]
	if !ok {
		return nil, orcerr.New(orcerr.NotFound, "%s with key %q not found", ModelKind.Noun, key)
	}
	return m, nil
}

// GetModels reads several models at once; absent keys are absent from the
// result.
func GetModels(stub shim.ChaincodeStubInterface, keys []string) (map[string]*protos.Model, error) {
	out := make(map[string]*protos.Model, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	sks := make([]string, len(keys))
	for i, k := range keys {
		sk, err := ctKey(stub, modelObject, k)
		if err != nil {
			return nil, err
		}
		sks[i] = sk
	}
	vals, err := stub.GetMultipleStates(sks...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read models")
	}
	for i, b := range vals {
		if b == nil {
			continue
		}
		m := new(protos.Model)
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "decode model %s", keys[i])
		}
		out[keys[i]] = m
	}
	return out, nil
}

// PutModel stores a model record (new or disabled).
func PutModel(stub shim.ChaincodeStubInterface, m *protos.Model) error {
	sk, err := ctKey(stub, modelObject, m.GetKey())
	if err != nil {
		return err
	}
	b, err := Marshal(m)
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "encode model %s", m.GetKey())
	}
	return ctPut(stub, sk, b)
}

// ComputeTaskOutputModels returns the models registered for the outputs of
// a task, by output identifier then registration order.
func ComputeTaskOutputModels(stub shim.ChaincodeStubInterface, task string) ([]*protos.Model, error) {
	assets, err := ComputeTaskOutputAssets(stub, task, "")
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, a := range assets {
		if a.GetAssetKind() == protos.AssetKind_ASSET_MODEL {
			keys = append(keys, a.GetAssetKey())
		}
	}
	got, err := GetModels(stub, keys)
	if err != nil {
		return nil, err
	}
	models := make([]*protos.Model, 0, len(keys))
	for _, k := range keys {
		if m, ok := got[k]; ok {
			models = append(models, m)
		}
	}
	return models, nil
}
