package computetask

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// closureCC is a chaincode running whatever function the test hands it, so
// the session logic runs on solo's real stub without the other contracts.
type closureCC struct {
	f func(stub shim.ChaincodeStubInterface) error
}

func (c *closureCC) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (c *closureCC) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	if err := c.f(stub); err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success(nil)
}

// world holds the assets of the other contracts the fake env serves.
type world struct {
	functions map[string]*protos.Function
	managers  map[string]*protos.DataManager
	samples   map[string]*protos.DataSample
	orgs      map[string]bool
	used      []string // plan/function pairs recorded
}

type fakeEnv struct {
	w      *world
	stub   shim.ChaincodeStubInterface
	events []*protos.Event
}

func (e *fakeEnv) Stub() shim.ChaincodeStubInterface { return e.stub }
func (e *fakeEnv) Emit(ev *protos.Event) error {
	// Snapshot the event, as ledger.Tx.Emit does by encoding it.
	e.events = append(e.events, proto.Clone(ev).(*protos.Event))
	return nil
}
func (e *fakeEnv) Now() *timestamppb.Timestamp {
	ts, _ := e.stub.GetTxTimestamp()
	return ts
}
func (e *fakeEnv) Function(k string) (*protos.Function, error) {
	if f, ok := e.w.functions[k]; ok {
		return proto.Clone(f).(*protos.Function), nil
	}
	return nil, orcerr.New(orcerr.NotFound, "function %s not found", k)
}
func (e *fakeEnv) DataManager(k string) (*protos.DataManager, error) {
	if d, ok := e.w.managers[k]; ok {
		return d, nil
	}
	return nil, orcerr.New(orcerr.NotFound, "data manager %s not found", k)
}
func (e *fakeEnv) DataSample(k string) (*protos.DataSample, error) {
	if d, ok := e.w.samples[k]; ok {
		return d, nil
	}
	return nil, orcerr.New(orcerr.NotFound, "data sample %s not found", k)
}
func (e *fakeEnv) OrganizationExists(id string) (bool, error) { return e.w.orgs[id], nil }

// The fake env has no faster paths: it does the plain thing.
func (e *fakeEnv) EmitComputeTask(ev *protos.Event, _ []byte) error { return e.Emit(ev) }
func (e *fakeEnv) Reserve(int)                                      {}
func (e *fakeEnv) PreloadFunctions([]string) error                  { return nil }
func (e *fakeEnv) DataSampleRecords(keys []string) ([][]byte, error) {
	return make([][]byte, len(keys)), nil
}
func (e *fakeEnv) DataSampleHasManager(key, dm string) (bool, error) {
	d, err := e.DataSample(key)
	if err != nil {
		return false, err
	}
	return slices.Contains(d.GetDataManagerKeys(), dm), nil
}
func (e *fakeEnv) FunctionUsedInPlan(plan string, fn *protos.Function) error {
	e.w.used = append(e.w.used, plan+"/"+fn.GetKey())
	return nil
}

// harness runs session code in solo transactions and records the events
// of the committed ones.
type harness struct {
	t      testing.TB
	peer   *solo.Peer
	cc     *closureCC
	w      *world
	events []*protos.Event
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	cc := &closureCC{}
	p := solo.New(cc, memstore.Opener())
	t.Cleanup(func() { p.Close() })
	return &harness{t: t, peer: p, cc: cc, w: &world{
		functions: map[string]*protos.Function{},
		managers:  map[string]*protos.DataManager{},
		samples:   map[string]*protos.DataSample{},
		orgs:      map[string]bool{"org1": true, "org2": true},
	}}
}

// submit runs f in a transaction; the events count only if it commits.
func (h *harness) submit(f func(s *Session) error) error {
	var env *fakeEnv
	h.cc.f = func(stub shim.ChaincodeStubInterface) error {
		env = &fakeEnv{w: h.w, stub: stub}
		return f(NewSession(env))
	}
	_, err := h.peer.Submit(context.Background(), solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: "org1"}, Args: [][]byte{[]byte("x")}})
	if err != nil {
		var ce *solo.ChaincodeError
		if errors.As(err, &ce) {
			return errors.New(ce.Message)
		}
		return err
	}
	h.events = append(h.events, env.events...)
	return nil
}

// read runs f in an evaluation.
func (h *harness) read(f func(s *Session) error) error {
	h.cc.f = func(stub shim.ChaincodeStubInterface) error {
		return f(NewSession(&fakeEnv{w: h.w, stub: stub}))
	}
	_, err := h.peer.Evaluate(context.Background(), solo.Proposal{Channel: "ch", Creator: solo.Identity{MSPID: "org1"}, Args: [][]byte{[]byte("x")}})
	var ce *solo.ChaincodeError
	if errors.As(err, &ce) {
		return errors.New(ce.Message)
	}
	return err
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) task(key string) *protos.ComputeTask {
	h.t.Helper()
	var t *protos.ComputeTask
	h.must(h.read(func(s *Session) (err error) {
		t, err = s.Task(key)
		return err
	}))
	return t
}

func (h *harness) status(key string) protos.ComputeTaskStatus { return h.task(key).GetStatus() }

func (h *harness) plan(owner, key string) {
	h.t.Helper()
	h.must(h.submit(func(s *Session) error {
		return ledger.PutComputePlan(s.stub, &protos.ComputePlan{Key: key, Owner: owner, Name: "plan", CreationDate: s.env.Now()}, true)
	}))
}

func (h *harness) action(key string, a protos.ComputeTaskAction, who string) error {
	return h.submit(func(s *Session) error { return s.ApplyAction(key, a, "", who) })
}

// uuid builds a deterministic UUID from a small number and a kind digit.
func uuid(kind, n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n)
}
