package ledger

import (
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

func TestCtKeyMatchesShim(t *testing.T) {
	cases := []struct {
		object string
		attrs  []string
		bad    bool
	}{
		{"computetask", []string{"0e1b4d3c-3f5a-4f7e-9d35-2f7c2c4e8a01"}, false},
		{"ct~p~t", []string{"p", "00000000000000000001", "k"}, false},
		{"ct~t", nil, false},
		{"computetask", []string{"é漢"}, false},
		{"computetask", []string{"a\x00b"}, true},
		{"computetask", []string{"\xff"}, true},
		{"computetask", []string{"a\U0010FFFF"}, true},
	}
	for _, c := range cases {
		got, err := ctKey(nil, c.object, c.attrs...)
		want, werr := shim.CreateCompositeKey(c.object, c.attrs)
		if c.bad {
			if err == nil || werr == nil {
				t.Errorf("%q: ctKey err %v, shim err %v", c.attrs, err, werr)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: ctKey = %q, %v; shim = %q", c.attrs, got, err, want)
		}
	}
}
