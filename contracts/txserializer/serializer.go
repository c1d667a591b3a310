// Package txserializer is the transaction serializer of the orchestrator
// chaincode. The contracts take and return binary protobuf messages as
// []byte; the contract API's default serializer would carry those as
// base64 inside JSON and validate them against a JSON schema. This one
// passes []byte (and string) arguments and results through untouched and
// defers every other type to the JSON serializer.
package txserializer

import (
	"reflect"

	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
	"github.com/hyperledger/fabric-contract-api-go/v2/serializer"
)

// Raw is a serializer.TransactionSerializer passing []byte and string
// values through raw.
type Raw struct {
	json serializer.JSONSerializer
}

var _ serializer.TransactionSerializer = (*Raw)(nil)

var bytesType = reflect.TypeFor[[]byte]()

// FromString converts an argument: its bytes for []byte and string
// parameters, the JSON serializer's conversion otherwise.
func (r *Raw) FromString(s string, t reflect.Type, p *metadata.ParameterMetadata, c *metadata.ComponentMetadata) (reflect.Value, error) {
	switch {
	case t == bytesType:
		return reflect.ValueOf([]byte(s)), nil
	case t.Kind() == reflect.String:
		return reflect.ValueOf(s).Convert(t), nil
	}
	return r.json.FromString(s, t, p, c)
}

// ToString converts a result: its bytes for []byte and string results, the
// JSON serializer's conversion otherwise.
func (r *Raw) ToString(v reflect.Value, t reflect.Type, m *metadata.ReturnMetadata, c *metadata.ComponentMetadata) (string, error) {
	switch {
	case t == bytesType:
		return string(v.Bytes()), nil
	case t.Kind() == reflect.String:
		return v.String(), nil
	}
	return r.json.ToString(v, t, m, c)
}
