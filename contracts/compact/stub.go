package compact

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/fedchain/orchestrator/protos/compactwire"
)

// compactStub is the stub of a transaction whose caller reads compact
// form: its arguments are the decoded ones, and the chaincode event it
// sets is encoded. Everything else is the peer's stub.
type compactStub struct {
	shim.ChaincodeStubInterface
	args  [][]byte
	codec *compactwire.Codec
}

func (s *compactStub) GetArgs() [][]byte { return s.args }

func (s *compactStub) GetStringArgs() []string {
	out := make([]string, len(s.args))
	for i, a := range s.args {
		out[i] = string(a)
	}
	return out
}

func (s *compactStub) GetFunctionAndParameters() (string, []string) {
	args := s.GetStringArgs()
	if len(args) == 0 {
		return "", nil
	}
	return args[0], args[1:]
}

func (s *compactStub) GetArgsSlice() ([]byte, error) {
	var out []byte
	for _, a := range s.args {
		out = append(out, a...)
	}
	return out, nil
}

// SetEvent sets the chaincode event with its payload in compact form.
func (s *compactStub) SetEvent(name string, payload []byte) error {
	return s.ChaincodeStubInterface.SetEvent(name, s.codec.Encode(payload))
}
