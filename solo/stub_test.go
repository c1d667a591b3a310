package solo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/store"
)

// funcCC is a chaincode whose Invoke runs a test function.
type funcCC func(stub shim.ChaincodeStubInterface) *peer.Response

func (f funcCC) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (f funcCC) Invoke(stub shim.ChaincodeStubInterface) *peer.Response { return f(stub) }

// errCC wraps a function returning an error.
func errCC(f func(stub shim.ChaincodeStubInterface) error) funcCC {
	return func(stub shim.ChaincodeStubInterface) *peer.Response {
		if err := f(stub); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	}
}

var org1 = solo.Identity{MSPID: "Org1MSP"}

func prop(args ...string) solo.Proposal {
	p := solo.Proposal{Channel: "ch", Creator: org1}
	for _, a := range args {
		p.Args = append(p.Args, []byte(a))
	}
	return p
}

func newPeer(t *testing.T, cc shim.Chaincode, opts ...solo.Option) *solo.Peer {
	t.Helper()
	p := solo.New(cc, memstore.Opener(), opts...)
	t.Cleanup(func() { p.Close() })
	return p
}

func submit(t *testing.T, p *solo.Peer, args ...string) *solo.Result {
	t.Helper()
	res, err := p.Submit(context.Background(), prop(args...))
	if err != nil {
		t.Fatalf("submit %q: %v", args, err)
	}
	return res
}

// putter sets key=value for args[0], args[1] pairs.
var putter = errCC(func(stub shim.ChaincodeStubInterface) error {
	args := stub.GetStringArgs()
	for i := 0; i+1 < len(args); i += 2 {
		if err := stub.PutState(args[i], []byte(args[i+1])); err != nil {
			return err
		}
	}
	return nil
})

func TestCompositeKeys(t *testing.T) {
	var stub shim.ChaincodeStubInterface
	p := newPeer(t, funcCC(func(s shim.ChaincodeStubInterface) *peer.Response { stub = s; return shim.Success(nil) }))
	submit(t, p)
	tests := []struct {
		typ   string
		attrs []string
		err   bool
	}{
		{"task", []string{"a", "b"}, false},
		{"task", nil, false},
		{"", []string{""}, false},
		{"é", []string{"日本", "x y"}, false},
		{"task", []string{"a\x00b"}, true},
		{"task", []string{"a\U0010FFFF"}, true},
		{"ta\x00sk", nil, true},
		{"task", []string{"\xff"}, true},
	}
	for _, tc := range tests {
		ck, err := stub.CreateCompositeKey(tc.typ, tc.attrs)
		want, wantErr := shim.CreateCompositeKey(tc.typ, tc.attrs)
		if (err != nil) != tc.err || (wantErr != nil) != tc.err || ck != want {
			t.Errorf("CreateCompositeKey(%q, %q) = %q, %v; shim gives %q, %v", tc.typ, tc.attrs, ck, err, want, wantErr)
			continue
		}
		if tc.err {
			continue
		}
		if !strings.HasPrefix(ck, "\x00") {
			t.Errorf("composite key %q lacks the U+0000 namespace", ck)
		}
		typ, attrs, err := stub.SplitCompositeKey(ck)
		if err != nil || typ != tc.typ || !slices.Equal(attrs, append([]string{}, tc.attrs...)) {
			t.Errorf("SplitCompositeKey(%q) = %q %q %v", ck, typ, attrs, err)
		}
	}
	if _, _, err := stub.SplitCompositeKey("plain"); err == nil {
		t.Error("SplitCompositeKey of a simple key: no error")
	}
}

func TestSimpleKeyRules(t *testing.T) {
	cases := []struct {
		name string
		fn   func(shim.ChaincodeStubInterface) error
		want string
	}{
		{"range start in composite namespace", func(s shim.ChaincodeStubInterface) error {
			_, err := s.GetStateByRange("\x00a", "")
			return err
		}, "null character"},
		{"range end in composite namespace", func(s shim.ChaincodeStubInterface) error {
			_, err := s.GetStateByRange("a", "\x00")
			return err
		}, "null character"},
		{"paginated range start in composite namespace", func(s shim.ChaincodeStubInterface) error {
			_, _, err := s.GetStateByRangeWithPagination("\x00a", "", 5, "")
			return err
		}, "null character"},
		{"empty key put", func(s shim.ChaincodeStubInterface) error { return s.PutState("", []byte("x")) }, "empty"},
		{"empty key delete", func(s shim.ChaincodeStubInterface) error { return s.DelState("") }, "empty"},
		{"invalid UTF-8 get", func(s shim.ChaincodeStubInterface) error { _, err := s.GetState("\xff"); return err }, "UTF-8"},
		{"invalid UTF-8 put", func(s shim.ChaincodeStubInterface) error { return s.PutState("\xff", []byte("x")) }, "UTF-8"},
		{"empty event name", func(s shim.ChaincodeStubInterface) error { return s.SetEvent("", nil) }, "event name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, errCC(tc.fn))
			_, err := p.Submit(context.Background(), prop())
			var ce *solo.ChaincodeError
			if !errors.As(err, &ce) || !strings.Contains(ce.Message, tc.want) {
				t.Fatalf("err = %v, want a chaincode error containing %q", err, tc.want)
			}
		})
	}
	// Composite keys are written with PutState like any key.
	p := newPeer(t, putter)
	submit(t, p, "\x00t\x00a\x00", "v")
}

func TestUnsupported(t *testing.T) {
	calls := map[string]func(shim.ChaincodeStubInterface) error{
		"GetQueryResult": func(s shim.ChaincodeStubInterface) error { _, err := s.GetQueryResult("{}"); return err },
		"GetQueryResultWithPagination": func(s shim.ChaincodeStubInterface) error {
			_, _, err := s.GetQueryResultWithPagination("{}", 1, "")
			return err
		},
		"GetHistoryForKey":       func(s shim.ChaincodeStubInterface) error { _, err := s.GetHistoryForKey("k"); return err },
		"GetPrivateData":         func(s shim.ChaincodeStubInterface) error { _, err := s.GetPrivateData("c", "k"); return err },
		"GetMultiplePrivateData": func(s shim.ChaincodeStubInterface) error { _, err := s.GetMultiplePrivateData("c", "k"); return err },
		"GetPrivateDataHash":     func(s shim.ChaincodeStubInterface) error { _, err := s.GetPrivateDataHash("c", "k"); return err },
		"PutPrivateData":         func(s shim.ChaincodeStubInterface) error { return s.PutPrivateData("c", "k", []byte("v")) },
		"DelPrivateData":         func(s shim.ChaincodeStubInterface) error { return s.DelPrivateData("c", "k") },
		"PurgePrivateData":       func(s shim.ChaincodeStubInterface) error { return s.PurgePrivateData("c", "k") },
		"GetPrivateDataByRange": func(s shim.ChaincodeStubInterface) error {
			_, err := s.GetPrivateDataByRange("c", "a", "b")
			return err
		},
		"GetPrivateDataQueryResult": func(s shim.ChaincodeStubInterface) error {
			_, err := s.GetPrivateDataQueryResult("c", "{}")
			return err
		},
		"SetStateValidationParameter": func(s shim.ChaincodeStubInterface) error { return s.SetStateValidationParameter("k", nil) },
		"GetStateValidationParameter": func(s shim.ChaincodeStubInterface) error { _, err := s.GetStateValidationParameter("k"); return err },
		"SetPrivateDataValidationParameter": func(s shim.ChaincodeStubInterface) error {
			return s.SetPrivateDataValidationParameter("c", "k", nil)
		},
		"GetPrivateDataValidationParameter": func(s shim.ChaincodeStubInterface) error {
			_, err := s.GetPrivateDataValidationParameter("c", "k")
			return err
		},
		"GetPrivateDataByPartialCompositeKey": func(s shim.ChaincodeStubInterface) error {
			_, err := s.GetPrivateDataByPartialCompositeKey("c", "t", nil)
			return err
		},
	}
	var stub shim.ChaincodeStubInterface
	p := newPeer(t, funcCC(func(s shim.ChaincodeStubInterface) *peer.Response { stub = s; return shim.Success(nil) }))
	submit(t, p)
	for name, call := range calls {
		if err := call(stub); !errors.Is(err, solo.ErrUnsupported) || !strings.Contains(err.Error(), "not supported in solo mode") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if resp := stub.InvokeChaincode("other", nil, ""); resp.Status != shim.ERROR || !strings.Contains(resp.Message, "not supported in solo mode") {
		t.Errorf("InvokeChaincode: %+v", resp)
	}
}

func TestTransactionData(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	var stub shim.ChaincodeStubInterface
	p := newPeer(t, funcCC(func(s shim.ChaincodeStubInterface) *peer.Response { stub = s; return shim.Success(nil) }),
		solo.WithClock(func() time.Time { return now }), solo.WithChaincodeName("mycc"))
	pr := prop("fn", "a1", "a2")
	pr.Transient = map[string][]byte{"k": []byte("v")}
	res, err := p.Submit(context.Background(), pr)
	if err != nil {
		t.Fatal(err)
	}
	if fn, params := stub.GetFunctionAndParameters(); fn != "fn" || !slices.Equal(params, []string{"a1", "a2"}) {
		t.Errorf("GetFunctionAndParameters = %q %q", fn, params)
	}
	if b, _ := stub.GetArgsSlice(); string(b) != "fna1a2" {
		t.Errorf("GetArgsSlice = %q", b)
	}
	if stub.GetTxID() != res.TxID || stub.GetChannelID() != "ch" {
		t.Errorf("txid %q channel %q", stub.GetTxID(), stub.GetChannelID())
	}
	if ts, _ := stub.GetTxTimestamp(); !ts.AsTime().Equal(now) {
		t.Errorf("timestamp %v", ts.AsTime())
	}
	if tr, _ := stub.GetTransient(); string(tr["k"]) != "v" {
		t.Errorf("transient %q", tr)
	}
	// The creator parses as Fabric's client identity library expects.
	id, err := cid.New(stub)
	if err != nil {
		t.Fatalf("cid: %v", err)
	}
	if msp, _ := id.GetMSPID(); msp != "Org1MSP" {
		t.Errorf("cid MSP id %q", msp)
	}
	cert, err := id.GetX509Certificate()
	if err != nil || cert == nil || cert.Subject.CommonName != "solo-Org1MSP" {
		t.Errorf("cid certificate: %v %v", cert, err)
	}
	// The signed proposal is well formed and consistent with the stub.
	sp, err := stub.GetSignedProposal()
	if err != nil {
		t.Fatal(err)
	}
	var pp peer.Proposal
	var hdr common.Header
	var chdr common.ChannelHeader
	var shdr common.SignatureHeader
	for _, u := range []struct {
		b func() []byte
		m proto.Message
	}{
		{func() []byte { return sp.ProposalBytes }, &pp},
		{func() []byte { return pp.Header }, &hdr},
		{func() []byte { return hdr.ChannelHeader }, &chdr},
		{func() []byte { return hdr.SignatureHeader }, &shdr},
	} {
		if err := proto.Unmarshal(u.b(), u.m); err != nil {
			t.Fatal(err)
		}
	}
	creator, _ := stub.GetCreator()
	sum := sha256.Sum256(append(append([]byte{}, shdr.Nonce...), creator...))
	if chdr.TxId != res.TxID || chdr.ChannelId != "ch" || hex.EncodeToString(sum[:]) != res.TxID || !proto.Equal(chdr.Timestamp, mustTS(stub)) {
		t.Errorf("channel header %v / txid %s is not Fabric's derivation", &chdr, res.TxID)
	}
	if string(shdr.Creator) != string(creator) || len(shdr.Nonce) == 0 {
		t.Errorf("signature header does not carry the creator and nonce")
	}
	if b, _ := stub.GetBinding(); len(b) != sha256.Size {
		t.Errorf("binding %x", b)
	}
	// An explicit certificate is passed through.
	pr2 := prop()
	pr2.Creator = solo.Identity{MSPID: "Org2MSP", CertPEM: genCert(t, p)}
	if _, err := p.Submit(context.Background(), pr2); err != nil {
		t.Fatal(err)
	}
	if id, err := cid.New(stub); err != nil {
		t.Fatal(err)
	} else if msp, _ := id.GetMSPID(); msp != "Org2MSP" {
		t.Errorf("explicit cert: MSP %q", msp)
	}
}

func mustTS(stub shim.ChaincodeStubInterface) proto.Message {
	ts, _ := stub.GetTxTimestamp()
	return ts
}

// genCert returns the PEM certificate solo generated for Org1MSP.
func genCert(t *testing.T, p *solo.Peer) []byte {
	var stub shim.ChaincodeStubInterface
	p2 := newPeer(t, funcCC(func(s shim.ChaincodeStubInterface) *peer.Response { stub = s; return shim.Success(nil) }))
	submit(t, p2)
	id, err := cid.New(stub)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := id.GetX509Certificate()
	return pemCert(cert.Raw)
}

func TestWriteBatchAndDeletes(t *testing.T) {
	cc := errCC(func(s shim.ChaincodeStubInterface) error {
		s.StartWriteBatch()
		for _, k := range []string{"a", "b", "c"} {
			if err := s.PutState(k, []byte("1")); err != nil {
				return err
			}
		}
		if err := s.DelState("b"); err != nil { // last write of a key wins
			return err
		}
		if err := s.FinishWriteBatch(); err != nil {
			return err
		}
		return s.PutState("c", nil) // an empty value deletes, as on Fabric
	})
	p := newPeer(t, cc)
	submit(t, p)
	st, _ := p.Store(context.Background(), "ch")
	r, _ := st.Begin(context.Background())
	defer r.Close()
	kvs, _ := r.Scan(context.Background(), "", "", 0)
	if len(kvs) != 1 || kvs[0].Key != "a" {
		t.Fatalf("state after batch: %+v", kvs)
	}
}

func TestPanicAndNilResponse(t *testing.T) {
	p := newPeer(t, funcCC(func(shim.ChaincodeStubInterface) *peer.Response { panic("boom") }))
	_, err := p.Submit(context.Background(), prop())
	var ce *solo.ChaincodeError
	if !errors.As(err, &ce) || ce.Status != 500 || !strings.Contains(ce.Message, "boom") {
		t.Fatalf("panic: %v", err)
	}
	p = newPeer(t, funcCC(func(shim.ChaincodeStubInterface) *peer.Response { return nil }))
	if _, err := p.Submit(context.Background(), prop()); !errors.As(err, &ce) {
		t.Fatalf("nil response: %v", err)
	}
}

func TestBadProposals(t *testing.T) {
	p := newPeer(t, putter)
	for _, pr := range []solo.Proposal{
		{Channel: "", Creator: org1},
		{Channel: "Upper", Creator: org1},
		{Channel: "../x", Creator: org1},
		{Channel: "ch", Creator: solo.Identity{}},
	} {
		if _, err := p.Submit(context.Background(), pr); err == nil {
			t.Errorf("proposal %+v accepted", pr)
		}
	}
	p.Close()
	if _, err := p.Submit(context.Background(), prop()); !errors.Is(err, solo.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestRangeValidation checks which concurrent changes invalidate a range
// scan: those within what the transaction fetched, as on Fabric.
func TestRangeValidation(t *testing.T) {
	const n = 250 // more than one fetch batch (101 records)
	cases := []struct {
		name     string
		consume  int // records the chaincode reads before closing; -1 all
		inject   string
		attempts int
	}{
		{"insert inside the first batch", 5, "k0050x", 2},
		{"insert after the fetched batch", 5, "k0150x", 1},
		{"insert after the last key, iterator exhausted", -1, "k9999", 2},
		{"insert before the range", -1, "a", 1},
		{"update a fetched key", 5, "k0099", 2},
		{"update the last fetched key", 5, "k0100", 2},
		{"update a key beyond the fetched batch", 5, "k0101", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p *solo.Peer
			calls := 0
			cc := errCC(func(s shim.ChaincodeStubInterface) error {
				if s.GetStringArgs()[0] == "load" {
					for i := range n {
						if err := s.PutState(fmt.Sprintf("k%04d", i), []byte("v")); err != nil {
							return err
						}
					}
					return nil
				}
				calls++
				it, err := s.GetStateByRange("k", "l")
				if err != nil {
					return err
				}
				for i := 0; (tc.consume < 0 || i < tc.consume) && it.HasNext(); i++ {
					if _, err := it.Next(); err != nil {
						return err
					}
				}
				it.Close()
				if calls == 1 { // a concurrent commit during the first execution
					st, _ := p.Store(context.Background(), "ch")
					if err := st.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: tc.inject, Value: []byte("new")}}}); err != nil {
						return err
					}
				}
				return s.PutState("out", []byte("x"))
			})
			p = newPeer(t, cc)
			submit(t, p, "load")
			res := submit(t, p, "scan")
			if res.Attempts != tc.attempts {
				t.Fatalf("attempts = %d, want %d", res.Attempts, tc.attempts)
			}
		})
	}
}

func TestConflictReported(t *testing.T) {
	var p *solo.Peer
	cc := errCC(func(s shim.ChaincodeStubInterface) error {
		if _, err := s.GetState("k"); err != nil {
			return err
		}
		st, _ := p.Store(context.Background(), "ch")
		if err := st.Commit(context.Background(), &store.Batch{Writes: []store.Write{{Key: "k", Value: []byte(time.Now().String())}}}); err != nil {
			return err
		}
		return s.PutState("k", []byte("mine"))
	})
	p = newPeer(t, cc, solo.WithMaxRetries(2))
	_, err := p.Submit(context.Background(), prop())
	if !errors.Is(err, solo.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("err = %v, want 3 attempts", err)
	}
}

func TestTotalQueryLimit(t *testing.T) {
	var got []string
	var md *peer.QueryResponseMetadata
	cc := errCC(func(s shim.ChaincodeStubInterface) error {
		args := s.GetStringArgs()
		if args[0] == "load" {
			for i := range 6 {
				if err := s.PutState(fmt.Sprint("k", i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}
		var it shim.StateQueryIteratorInterface
		var err error
		if args[0] == "page" {
			it, md, err = s.GetStateByRangeWithPagination("", "", 10, "")
		} else {
			it, err = s.GetStateByRange("", "")
		}
		if err != nil {
			return err
		}
		defer it.Close()
		got = nil
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				return err
			}
			got = append(got, kv.Key)
		}
		return nil
	})
	p := newPeer(t, cc, solo.WithTotalQueryLimit(4))
	submit(t, p, "load")
	submit(t, p, "range")
	if len(got) != 4 {
		t.Errorf("unpaginated range returned %d records, want the limit 4", len(got))
	}
	if _, err := p.Evaluate(context.Background(), prop("page")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || md.FetchedRecordsCount != 4 || md.Bookmark != "k4" {
		t.Errorf("paginated: %q %v", got, md)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestParallelTransactions shows transactions are not serialized: the first
// one waits inside the chaincode until a second one has committed.
func TestParallelTransactions(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	var once sync.Once
	cc := errCC(func(s shim.ChaincodeStubInterface) error {
		if s.GetStringArgs()[0] == "wait" {
			once.Do(func() { close(started) })
			select {
			case <-release:
			case <-time.After(5 * time.Second):
				return errors.New("the other transaction never ran")
			}
		}
		return s.PutState(s.GetStringArgs()[0], []byte("x"))
	})
	p := newPeer(t, cc)
	done := make(chan error, 1)
	go func() {
		_, err := p.Submit(context.Background(), prop("wait"))
		done <- err
	}()
	<-started // "other" runs while "wait" is in flight
	submit(t, p, "other")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
