package compact_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/contracts/compact"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/compactwire"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

const (
	org1    = "Org1MSP"
	channel = "mychannel"
)

// peer is the orchestrator chaincode on a solo peer, every invocation run
// twice (cct.EndorseTwice: the two runs must agree on every byte of the
// answer, the writes and the event, as two endorsers must).
type peer struct {
	t     *testing.T
	solo  *solo.Peer
	codec *compactwire.Codec
}

// newPeer returns the chaincode on a solo peer, served through
// compact.Chaincode when wrapped. Its clock starts at cct.Start and ticks
// one second per transaction, so two peers given the same calls give the
// same answers.
func newPeer(t *testing.T, wrapped bool) *peer {
	t.Helper()
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := compactwire.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := cct.Start
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	run := cct.EndorseTwice(cc)
	if wrapped {
		run = cct.EndorseTwice(compact.New(cc, codec))
	}
	p := solo.New(run, memstore.Opener(), solo.WithClock(clock))
	t.Cleanup(func() { p.Close() })
	return &peer{t: t, solo: p, codec: codec}
}

// call runs tx with the raw argument arg; a chaincode error is returned
// as an error holding its message.
func (p *peer) call(submit bool, tx string, arg []byte) (*solo.Result, error) {
	p.t.Helper()
	run := p.solo.Evaluate
	if submit {
		run = p.solo.Submit
	}
	r, err := run(context.Background(), solo.Proposal{Channel: channel, Creator: solo.Identity{MSPID: org1}, Args: [][]byte{[]byte(tx), arg}})
	var ce *solo.ChaincodeError
	if errors.As(err, &ce) {
		return nil, errors.New(ce.Message)
	}
	if err != nil {
		p.t.Fatalf("%s: %v", tx, err)
	}
	return r, nil
}

// step is one call of the scenario.
type step struct {
	submit bool
	tx     string
	req    proto.Message
}

func scenario(n int) []step {
	fn, dm, plan := cct.Key(1), cct.Key(2), cct.Key(3)
	samples := []string{cct.Key(4), cct.Key(5)}
	inputs := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dm}}}
	var newSamples []*protos.NewDataSample
	for _, s := range samples {
		newSamples = append(newSamples, &protos.NewDataSample{Key: s, DataManagerKeys: []string{dm}, Checksum: cct.Checksum(s)})
		inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: s}})
	}
	tasks := &protos.RegisterTasksParam{}
	for i := range n {
		tasks.Tasks = append(tasks.Tasks, &protos.NewComputeTask{
			Key: cct.Key(100 + i), FunctionKey: fn, ComputePlanKey: plan, Inputs: inputs,
			Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: &protos.NewPermissions{AuthorizedIds: []string{org1}}}},
			Metadata: map[string]string{"round": fmt.Sprint(i)},
		})
	}
	public := &protos.NewPermissions{Public: true}
	return []step{
		{true, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{Address: "https://org1.example.org"}},
		{false, "orchestrator.organization:GetAllOrganizations", &protos.GetAllOrganizationsParam{}},
		{true, "orchestrator.function:RegisterFunction", cct.NewFunction(fn, public)},
		{true, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: fn, Action: protos.FunctionAction_FUNCTION_ACTION_BUILDING}},
		{true, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: fn, Action: protos.FunctionAction_FUNCTION_ACTION_READY}},
		{true, "orchestrator.datamanager:RegisterDataManager", cct.NewDataManager(dm, public)},
		{true, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: newSamples}},
		{true, "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: plan, Name: "plan"}},
		{true, "orchestrator.computetask:RegisterTasks", tasks},
		{true, "orchestrator.computetask:RegisterTasks", tasks}, // again: AlreadyExists
		{false, "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: cct.Key(100)}},
		{false, "orchestrator.computetask:GetTask", &protos.GetTaskParam{Key: cct.Key(99)}}, // NotFound
		{true, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: cct.Key(99), Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING}},
	}
}

// TestCompactAndPlainAnswerAlike runs one scenario on the bare chaincode
// with plain requests and on the wrapped one with compact requests: the
// wrapped chaincode's answers and events, decoded, are the bare one's, its
// errors the same text, and the compact forms are smaller where they
// matter. A plain request to the wrapped chaincode gets exactly the bare
// chaincode's bytes.
func TestCompactAndPlainAnswerAlike(t *testing.T) {
	bare, wrapped, plainWrapped := newPeer(t, false), newPeer(t, true), newPeer(t, true)
	for i, s := range scenario(50) {
		arg, err := proto.Marshal(s.req)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := bare.call(s.submit, s.tx, arg)
		got, gotErr := wrapped.call(s.submit, s.tx, wrapped.codec.Encode(arg))
		plain, plainErr := plainWrapped.call(s.submit, s.tx, arg)
		name := fmt.Sprintf("step %d %s", i, s.tx)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || fmt.Sprint(wantErr) != fmt.Sprint(plainErr) {
			t.Fatalf("%s: errors %v (compact), %v (plain, wrapped), want %v", name, gotErr, plainErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if !bytes.Equal(plain.Payload, want.Payload) || !sameEvent(plain.Event, want.Event, nil) {
			t.Errorf("%s: a plain request to the wrapped chaincode gets other bytes than from the bare one", name)
		}
		if len(want.Payload) == 0 {
			if len(got.Payload) != 0 {
				t.Errorf("%s: %d bytes answer an empty answer", name, len(got.Payload))
			}
		} else if !compactwire.IsCompact(got.Payload) {
			t.Errorf("%s: answer not in compact form", name)
		}
		answer, err := wrapped.codec.Decode(got.Payload)
		if err != nil {
			t.Fatalf("%s: answer: %v", name, err)
		}
		if !bytes.Equal(answer, want.Payload) {
			t.Errorf("%s: decoded answer differs from the plain one", name)
		}
		if !sameEvent(got.Event, want.Event, wrapped.codec) {
			t.Errorf("%s: decoded event differs from the plain one", name)
		}
		if s.tx == "orchestrator.computetask:RegisterTasks" {
			t.Logf("RegisterTasks x50: request %d → %d bytes, answer %d → %d, event %d → %d",
				len(arg), len(wrapped.codec.Encode(arg)), len(want.Payload), len(got.Payload), len(want.Event.Payload), len(got.Event.Payload))
			if 5*len(got.Payload) > len(want.Payload) || 5*len(got.Event.Payload) > len(want.Event.Payload) {
				t.Errorf("%s: answer or event less than 5 times smaller compact", name)
			}
		}
	}
}

// sameEvent reports whether got, decoded with codec (as it is when nil),
// holds the events of want, their ids aside (they come from the
// transaction id, which solo draws at random).
func sameEvent(got, want *solo.ChaincodeEvent, codec *compactwire.Codec) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	payload := got.Payload
	if codec != nil {
		if !compactwire.IsCompact(payload) {
			return false
		}
		var err error
		if payload, err = codec.Decode(payload); err != nil {
			return false
		}
	}
	g, err1 := eventwire.Decode(payload)
	w, err2 := eventwire.Decode(want.Payload)
	if err1 != nil || err2 != nil || len(g) != len(w) || got.Name != want.Name {
		return false
	}
	for i := range g {
		g[i].Id, w[i].Id = "", ""
		if !proto.Equal(g[i], w[i]) {
			return false
		}
	}
	return true
}

// TestBadCompactRequest: a compact request that does not decode, or
// decodes beyond the limit, is InvalidAsset naming the transaction, and
// writes nothing.
func TestBadCompactRequest(t *testing.T) {
	p := newPeer(t, true)
	tx := "orchestrator.organization:RegisterOrganization"
	bomb, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		arg  []byte
		want string
	}{
		{"unknown form", []byte{0, 9, 1}, "unknown form"},
		{"broken frame", []byte{0, 1, 0x28, 0xb5, 0x2f, 0xfd, 0, 0}, "malformed compact payload"},
		{"beyond the limit", append([]byte{0, 1}, bomb.EncodeAll(make([]byte, compactwire.MaxPlainBytes+1), nil)...), "beyond the size limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.call(true, tx, tt.arg)
			if orcerr.KindOf(err) != orcerr.InvalidAsset || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tx) {
				t.Fatalf("err = %v, want InvalidAsset naming %s and saying %q", err, tx, tt.want)
			}
			r, err := p.call(false, "orchestrator.organization:GetAllOrganizations", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Payload) != 0 {
				t.Errorf("after a refused request, GetAllOrganizations answers %d bytes: something was written", len(r.Payload))
			}
		})
	}
}
