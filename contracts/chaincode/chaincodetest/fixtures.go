package chaincodetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/fedchain/orchestrator/protos"
)

// Key returns a deterministic UUID for test asset number i.
func Key(i int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
}

// Checksum returns the SHA-256 of s in hexadecimal.
func Checksum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Addressable returns a valid addressable for name.
func Addressable(name string) *protos.Addressable {
	return &protos.Addressable{Checksum: Checksum(name), StorageAddress: "http://storage.example.org/" + name}
}

// RegisterOrgs registers each MSP id as an organization.
func (n *Net) RegisterOrgs(msps ...string) {
	n.t.Helper()
	for _, m := range msps {
		n.MustSubmit(m, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{Address: "https://" + m + ".example.org"}, nil)
	}
}

// NewFunction returns a valid function registration with key k: inputs a
// data manager, data samples and a model, outputs a model.
func NewFunction(k string, perms *protos.NewPermissions) *protos.NewFunction {
	return &protos.NewFunction{
		Key:            k,
		Name:           "function " + k,
		Description:    Addressable("description-" + k),
		Archive:        Addressable("archive-" + k),
		NewPermissions: perms,
		Metadata:       map[string]string{"framework": "torch"},
		Inputs: map[string]*protos.FunctionInput{
			"opener":      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
			"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
			"model":       {Kind: protos.AssetKind_ASSET_MODEL, Optional: true},
		},
		Outputs: map[string]*protos.FunctionOutput{
			"model": {Kind: protos.AssetKind_ASSET_MODEL},
		},
	}
}

// RegisterFunction registers NewFunction(k, public) as msp.
func (n *Net) RegisterFunction(msp, k string) *protos.Function {
	n.t.Helper()
	f := new(protos.Function)
	n.MustSubmit(msp, "orchestrator.function:RegisterFunction", NewFunction(k, &protos.NewPermissions{Public: true}), f)
	return f
}

// NewDataManager returns a valid data manager registration with key k.
func NewDataManager(k string, perms *protos.NewPermissions) *protos.NewDataManager {
	return &protos.NewDataManager{
		Key:            k,
		Name:           "data manager " + k,
		NewPermissions: perms,
		Description:    Addressable("dm-description-" + k),
		Opener:         Addressable("opener-" + k),
		LogsPermission: &protos.NewPermissions{},
		Metadata:       map[string]string{"kind": "images"},
	}
}

// RegisterDataManager registers NewDataManager(k, public) as msp.
func (n *Net) RegisterDataManager(msp, k string) *protos.DataManager {
	n.t.Helper()
	dm := new(protos.DataManager)
	n.MustSubmit(msp, "orchestrator.datamanager:RegisterDataManager", NewDataManager(k, &protos.NewPermissions{Public: true}), dm)
	return dm
}

// RegisterDataSamples registers samples with the given keys, linked to
// manager dm, as msp.
func (n *Net) RegisterDataSamples(msp, dm string, keys ...string) {
	n.t.Helper()
	p := &protos.RegisterDataSamplesParam{}
	for _, k := range keys {
		p.Samples = append(p.Samples, &protos.NewDataSample{Key: k, DataManagerKeys: []string{dm}, Checksum: Checksum(k)})
	}
	n.MustSubmit(msp, "orchestrator.datasample:RegisterDataSamples", p, nil)
}
