package computetask

import (
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Env is what the compute task rules need from the running transaction:
// the stub, the event buffer, the transaction time and read access to the
// assets the other contracts own.
type Env interface {
	Stub() shim.ChaincodeStubInterface
	// Emit records an event as it is at the call (ledger.Tx.Emit encodes
	// it at once): changing its asset afterwards must not change it.
	Emit(ev *protos.Event) error
	Now() *timestamppb.Timestamp
	// Function reads a function. It may be shared with other
	// transactions: it must not be modified.
	Function(key string) (*protos.Function, error)
	DataManager(key string) (*protos.DataManager, error)
	DataSample(key string) (*protos.DataSample, error)
	OrganizationExists(id string) (bool, error)
	// FunctionUsedInPlan records that a task of plan uses fn, so that
	// functions can be listed per plan.
	FunctionUsedInPlan(plan string, fn *protos.Function) error

	// What follows lets a large batch cost fewer reads and encodings; an
	// Env without a faster way does the plain thing.

	// EmitComputeTask is Emit for an event about a task whose
	// deterministic encoding, as the event holds it, the caller has
	// already made (its stored record): the Env may reuse it.
	EmitComputeTask(ev *protos.Event, task []byte) error
	// Reserve tells that about n more keys will be written in the
	// transaction, so that its buffers grow once (a hint).
	Reserve(n int)
	// PreloadFunctions reads the functions of keys in one go, so that
	// Function then finds them. A key that is invalid or unknown is not an
	// error here: Function reports it, in the order of the checks.
	PreloadFunctions(keys []string) error
	// DataSampleRecords returns the stored records of the data samples of
	// keys, read in one go, in order; nil for a sample it does not hand
	// over (unknown, invalid key, or an Env that keeps no records). The records are
	// only checked for their data managers (ledger.DataSampleRecordHasManager).
	DataSampleRecords(keys []string) ([][]byte, error)
	// DataSampleHasManager reports whether data sample key belongs to data
	// manager dm; OE0002 when the sample is unknown.
	DataSampleHasManager(key, dm string) (bool, error)
}

// Session applies the compute task rules within one transaction. It keeps
// the tasks and plans it read or wrote, because a Fabric transaction does
// not read its own writes, and caches the other assets it reads.
type Session struct {
	env       Env
	stub      shim.ChaincodeStubInterface
	tasks     map[string]*protos.ComputeTask
	plans     map[string]*protos.ComputePlan
	functions map[string]*protos.Function
	managers  map[string]*protos.DataManager
	samples   map[string]*protos.DataSample
	// sampleRecords holds the stored records of the data samples a task
	// batch names, read in one go by preloadSamples (Env.DataSampleRecords);
	// they are only checked for their data managers, never decoded.
	sampleRecords map[string][]byte
	orgs          map[string]bool
	models        map[string][]*protos.Model // output models of done parents
}

// NewSession starts applying rules in the transaction env runs.
func NewSession(env Env) *Session {
	return &Session{
		env:       env,
		stub:      env.Stub(),
		tasks:     make(map[string]*protos.ComputeTask),
		plans:     make(map[string]*protos.ComputePlan),
		functions: make(map[string]*protos.Function),
		managers:  make(map[string]*protos.DataManager),
		samples:   make(map[string]*protos.DataSample),
		orgs:      make(map[string]bool),
		models:    make(map[string][]*protos.Model),
	}
}

// Env returns the environment of the session.
func (s *Session) Env() Env { return s.env }

// Task returns a task as this transaction sees it; OE0002 when absent.
func (s *Session) Task(key string) (*protos.ComputeTask, error) {
	if t, ok := s.tasks[key]; ok {
		return t, nil
	}
	t, err := ledger.GetComputeTask(s.stub, key)
	if err != nil {
		return nil, err
	}
	s.tasks[key] = t
	return t, nil
}

// loadTasks reads the tasks not yet known to the session in one call.
func (s *Session) loadTasks(keys []string) error {
	var missing []string
	var seen map[string]bool // for long lists, where a search would cost more
	if len(keys) > 32 {
		seen = make(map[string]bool, len(keys))
	}
	for _, k := range keys {
		if _, ok := s.tasks[k]; ok {
			continue
		}
		if seen != nil {
			if seen[k] {
				continue
			}
			seen[k] = true
		} else if slices.Contains(missing, k) {
			continue
		}
		missing = append(missing, k)
	}
	got, err := ledger.GetComputeTasks(s.stub, missing)
	if err != nil {
		return err
	}
	for k, t := range got {
		s.tasks[k] = t
	}
	return nil
}

// Plan returns a plan as this transaction sees it; OE0002 when absent.
func (s *Session) Plan(key string) (*protos.ComputePlan, error) {
	if p, ok := s.plans[key]; ok {
		return p, nil
	}
	p, err := ledger.GetComputePlan(s.stub, key)
	if err != nil {
		return nil, err
	}
	s.plans[key] = p
	return p, nil
}

// SavePlan stores a plan changed by this transaction.
func (s *Session) SavePlan(p *protos.ComputePlan) error {
	s.plans[p.GetKey()] = p
	return ledger.PutComputePlan(s.stub, p, false)
}

// Function returns a function (cached), which must not be modified (see
// Env.Function).
func (s *Session) Function(key string) (*protos.Function, error) {
	if f, ok := s.functions[key]; ok {
		return f, nil
	}
	f, err := s.env.Function(key)
	if err != nil {
		return nil, err
	}
	s.functions[key] = f
	return f, nil
}

func (s *Session) dataManager(key string) (*protos.DataManager, error) {
	if d, ok := s.managers[key]; ok {
		return d, nil
	}
	d, err := s.env.DataManager(key)
	if err != nil {
		return nil, err
	}
	s.managers[key] = d
	return d, nil
}

func (s *Session) dataSample(key string) (*protos.DataSample, error) {
	if d, ok := s.samples[key]; ok {
		return d, nil
	}
	d, err := s.env.DataSample(key)
	if err != nil {
		return nil, err
	}
	s.samples[key] = d
	return d, nil
}

func (s *Session) orgExists(id string) (bool, error) {
	if ok, seen := s.orgs[id]; seen {
		return ok, nil
	}
	ok, err := s.env.OrganizationExists(id)
	if err != nil {
		return false, err
	}
	s.orgs[id] = ok
	return ok, nil
}

// Emit queues an event about an asset. The event is what the asset is at
// the call: Env.Emit snapshots it, so later changes in the same
// transaction do not alter it.
func (s *Session) Emit(kind protos.EventKind, assetKind protos.AssetKind, key string, asset proto.Message, metadata map[string]string) error {
	return s.emit(kind, assetKind, key, asset, metadata)
}

// emitTask is Emit for a task whose deterministic encoding, as it is now,
// is record (the record just stored): the event reuses it rather than
// encoding the task again.
func (s *Session) emitTask(kind protos.EventKind, t *protos.ComputeTask, record []byte, metadata map[string]string) error {
	return s.env.EmitComputeTask(&protos.Event{AssetKey: t.GetKey(), AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: kind,
		Metadata: metadata, Asset: &protos.Event_ComputeTask{ComputeTask: t}}, record)
}

// emit is Emit.
func (s *Session) emit(kind protos.EventKind, assetKind protos.AssetKind, key string, asset proto.Message, metadata map[string]string) error {
	ev := &protos.Event{AssetKey: key, AssetKind: assetKind, EventKind: kind, Metadata: metadata}
	switch a := asset.(type) {
	case *protos.ComputeTask:
		ev.Asset = &protos.Event_ComputeTask{ComputeTask: a}
	case *protos.ComputePlan:
		ev.Asset = &protos.Event_ComputePlan{ComputePlan: a}
	case *protos.Model:
		ev.Asset = &protos.Event_Model{Model: a}
	case *protos.Performance:
		ev.Asset = &protos.Event_Performance{Performance: a}
	case *protos.ComputeTaskOutputAsset:
		ev.Asset = &protos.Event_ComputeTaskOutputAsset{ComputeTaskOutputAsset: a}
	default:
		return orcerr.New(orcerr.Internal, "no event for asset %T", asset)
	}
	return s.env.Emit(ev)
}
