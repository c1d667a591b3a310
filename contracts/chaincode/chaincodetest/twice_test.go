package chaincodetest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// counting answers and writes the number of times it ran, unless fixed.
type counting struct {
	n     int
	fixed bool
	write bool
}

func (c *counting) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (c *counting) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	c.n++
	v := fmt.Sprint(c.n)
	if c.fixed {
		v = "same"
	}
	if c.write {
		stub.StartWriteBatch()
		if err := stub.PutState("k", []byte(v)); err != nil {
			return shim.Error(err.Error())
		}
		if err := stub.DelState("gone"); err != nil {
			return shim.Error(err.Error())
		}
		if err := stub.FinishWriteBatch(); err != nil {
			return shim.Error(err.Error())
		}
		if err := stub.SetEvent("ev", []byte(v)); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	}
	return shim.Success([]byte(v))
}

func TestEndorseTwice(t *testing.T) {
	tests := []struct {
		name string
		cc   *counting
		bad  bool
	}{
		{"deterministic", &counting{fixed: true, write: true}, false},
		{"response differs", &counting{}, true},
		{"writes differ", &counting{write: true}, true},
	}
	for _, tt := range tests {
		p := solo.New(chaincodetest.EndorseTwice(tt.cc), memstore.Opener())
		res, err := p.Submit(context.Background(), solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: "O"}, Args: [][]byte{[]byte("x")}})
		var ce *solo.ChaincodeError
		switch {
		case tt.bad && (!errors.As(err, &ce) || !strings.HasPrefix(ce.Message, "nondeterministic")):
			t.Errorf("%s: error %v, want nondeterministic", tt.name, err)
		case !tt.bad && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !tt.bad && (res.Event == nil || string(res.Event.Payload) != "same"):
			t.Errorf("%s: event %v not replayed", tt.name, res.Event)
		}
		if tt.cc.n != 2 {
			t.Errorf("%s: ran %d times, want 2", tt.name, tt.cc.n)
		}
		p.Close()
	}
}

// reader reads with every kind of query and answers what it saw.
type reader struct{ runs int }

func (c *reader) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (c *reader) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	c.runs++
	if fn, _ := stub.GetFunctionAndParameters(); fn == "write" {
		for _, k := range []string{"a", "b"} {
			if err := stub.PutState(k, []byte(k)); err != nil {
				return shim.Error(err.Error())
			}
		}
		ck, _ := stub.CreateCompositeKey("idx", []string{"x"})
		if err := stub.PutState(ck, []byte{1}); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	}
	var out []string
	v, _ := stub.GetState("a")
	out = append(out, string(v))
	vs, _ := stub.GetMultipleStates("a", "b")
	out = append(out, fmt.Sprint(len(vs)))
	drain := func(it shim.StateQueryIteratorInterface, err error) {
		if err != nil {
			out = append(out, err.Error())
			return
		}
		for it.HasNext() {
			kv, _ := it.Next()
			out = append(out, kv.GetKey())
		}
		if _, err := it.Next(); err == nil {
			out = append(out, "next past the end")
		}
		it.Close()
	}
	drain(stub.GetStateByRange("", ""))
	drain(stub.GetStateByPartialCompositeKey("idx", nil))
	it, _, err := stub.GetStateByRangeWithPagination("", "", 1, "")
	drain(it, err)
	it, _, err = stub.GetStateByPartialCompositeKeyWithPagination("idx", nil, 1, "")
	drain(it, err)
	return shim.Success([]byte(strings.Join(out, ",")))
}

func TestEndorseTwiceReplaysReads(t *testing.T) {
	c := &reader{}
	p := solo.New(chaincodetest.EndorseTwice(c), memstore.Opener())
	defer p.Close()
	ctx := context.Background()
	prop := solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: "O"}, Args: [][]byte{[]byte("write")}}
	if _, err := p.Submit(ctx, prop); err != nil {
		t.Fatal(err)
	}
	prop.Args = [][]byte{[]byte("read")}
	res, err := p.Evaluate(ctx, prop)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Payload), "a,2,a,b,\x00idx\x00x\x00,a,\x00idx\x00x\x00"; got != want {
		t.Errorf("read %q, want %q", got, want)
	}
	if c.runs != 4 {
		t.Errorf("%d runs, want 4", c.runs)
	}
}
