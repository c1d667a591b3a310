package solobench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
)

// kvOverhead is what a key read or written costs in a Fabric block beside
// its key and value: the KVRead/KVWrite framing and, for a read, the
// version (block and transaction numbers).
const kvOverhead = 6

// rwBytes adds up a transaction's read and write sets as Fabric carries
// them, by part: the write set by object type of the key (the first part
// of a composite key, the prefix up to the first U+0000 of a simple one).
type rwBytes struct {
	writes, writeKeys int
	reads, readKeys   int
	byPart            map[string][2]int // part -> keys, bytes
}

func (b *rwBytes) write(k string, v []byte) {
	if b.byPart == nil {
		b.byPart = map[string][2]int{}
	}
	n := len(k) + len(v) + kvOverhead
	b.writes += n
	b.writeKeys++
	part := k
	if strings.HasPrefix(k, "\x00") {
		part = k[1:]
	}
	if i := strings.IndexByte(part, 0); i >= 0 {
		part = part[:i]
	}
	if !strings.HasPrefix(k, "\x00") {
		part = "(simple) " + strconv.QuoteToASCII(k[:1])
	}
	p := b.byPart[part]
	b.byPart[part] = [2]int{p[0] + 1, p[1] + n}
}

func (b *rwBytes) read(k string) {
	b.reads += len(k) + kvOverhead
	b.readKeys++
}

func (b *rwBytes) add(o rwBytes) {
	b.writes += o.writes
	b.writeKeys += o.writeKeys
	b.reads += o.reads
	b.readKeys += o.readKeys
	if b.byPart == nil {
		b.byPart = map[string][2]int{}
	}
	for k, v := range o.byPart {
		p := b.byPart[k]
		b.byPart[k] = [2]int{p[0] + v[0], p[1] + v[1]}
	}
}

// describe renders b per item (items per transaction times transactions).
func (b rwBytes) describe(items float64) string {
	var s strings.Builder
	fmt.Fprintf(&s, "write set %.0f B in %.2f keys, read set %.0f B in %.2f keys per item", float64(b.writes)/items, float64(b.writeKeys)/items, float64(b.reads)/items, float64(b.readKeys)/items)
	parts := slices.Collect(func(yield func(string) bool) {
		for k := range b.byPart {
			if !yield(k) {
				return
			}
		}
	})
	sort.Slice(parts, func(i, j int) bool { return b.byPart[parts[i]][1] > b.byPart[parts[j]][1] })
	for _, p := range parts {
		v := b.byPart[p]
		fmt.Fprintf(&s, "\n\t%-28s %6.2f keys %7.1f B", p, float64(v[0])/items, float64(v[1])/items)
	}
	return s.String()
}

// countStub counts what a transaction reads and writes, as Fabric's
// read-write set would: every key read (once), every key written or
// deleted, every key an unpaginated range scan returns and its bounds.
type countStub struct {
	shim.ChaincodeStubInterface
	b    *rwBytes
	seen map[string]bool
}

func (s *countStub) readKey(k string) {
	if !s.seen[k] {
		s.seen[k] = true
		s.b.read(k)
	}
}

func (s *countStub) GetState(k string) ([]byte, error) {
	s.readKey(k)
	return s.ChaincodeStubInterface.GetState(k)
}

func (s *countStub) GetMultipleStates(ks ...string) ([][]byte, error) {
	for _, k := range ks {
		s.readKey(k)
	}
	return s.ChaincodeStubInterface.GetMultipleStates(ks...)
}

func (s *countStub) PutState(k string, v []byte) error {
	s.b.write(k, v)
	return s.ChaincodeStubInterface.PutState(k, v)
}

func (s *countStub) DelState(k string) error {
	s.b.write(k, nil)
	return s.ChaincodeStubInterface.DelState(k)
}

func (s *countStub) scanned(it shim.StateQueryIteratorInterface, start, end string, err error) (shim.StateQueryIteratorInterface, error) {
	if err != nil {
		return nil, err
	}
	s.b.reads += len(start) + len(end) + kvOverhead
	defer it.Close()
	out := &kvIter{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, err
		}
		s.b.read(kv.GetKey())
		out.kvs = append(out.kvs, kv)
	}
	return out, nil
}

func (s *countStub) GetStateByRange(start, end string) (shim.StateQueryIteratorInterface, error) {
	it, err := s.ChaincodeStubInterface.GetStateByRange(start, end)
	return s.scanned(it, start, end, err)
}

func (s *countStub) GetStateByPartialCompositeKey(obj string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	it, err := s.ChaincodeStubInterface.GetStateByPartialCompositeKey(obj, attrs)
	k, _ := shim.CreateCompositeKey(obj, attrs)
	return s.scanned(it, k, k+"\U0010FFFF", err)
}

// countCC runs the chaincode on countStubs and keeps the figures of each
// transaction by function name.
type countCC struct {
	cc    shim.Chaincode
	txs   map[string]int
	bytes map[string]*rwBytes
}

func (c *countCC) Init(stub shim.ChaincodeStubInterface) *peer.Response { return c.cc.Init(stub) }
func (c *countCC) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	var b rwBytes
	r := c.cc.Invoke(&countStub{ChaincodeStubInterface: stub, b: &b, seen: map[string]bool{}})
	if r.GetStatus() < 400 {
		tx := string(stub.GetArgs()[0])
		c.txs[tx]++
		if c.bytes[tx] == nil {
			c.bytes[tx] = &rwBytes{}
		}
		c.bytes[tx].add(b)
	}
	return r
}

// TestWriteSetBytes measures the read and write sets, as Fabric carries
// them in its blocks, of the shapes make bench-fabric submits (50-task
// RegisterTasks of independent train tasks on an opener and 3 samples,
// random UUID keys) and of the task lifecycle (EXECUTING, RegisterModels,
// DONE of a chain of tasks, each DONE starting the next task). It logs the
// bytes per task and per call by part (go test -v -run WriteSetBytes) and
// fails when a 50-task RegisterTasks writes more than the budget per task.
func TestWriteSetBytes(t *testing.T) {
	const budget = 1100 // B per task of a 50-task RegisterTasks' write set
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	c := &countCC{cc: cc, txs: map[string]int{}, bytes: map[string]*rwBytes{}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := solo.New(c, memstore.Opener(), solo.WithClock(func() time.Time { now = now.Add(time.Millisecond); return now }))
	defer p.Close()
	rng := rand.New(rand.NewPCG(13, 15))
	uuid := func() string {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	call := func(msp, tx string, req proto.Message) {
		t.Helper()
		arg, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Submit(context.Background(), solo.Proposal{Channel: channel, Creator: solo.Identity{MSPID: msp}, Args: [][]byte{[]byte(tx), arg}}); err != nil {
			t.Fatalf("%s: %v", tx, err)
		}
	}
	call(dataOrg, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{})
	fn, dm := uuid(), uuid()
	call(dataOrg, "orchestrator.function:RegisterFunction", &protos.NewFunction{
		Key: fn, Name: "train", Description: addressable("d", fn), Archive: addressable("a", fn),
		NewPermissions: &protos.NewPermissions{Public: true},
		Inputs: map[string]*protos.FunctionInput{
			"opener":      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
			"datasamples": {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
			"models":      {Kind: protos.AssetKind_ASSET_MODEL, Multiple: true, Optional: true},
		},
		Outputs: map[string]*protos.FunctionOutput{"model": {Kind: protos.AssetKind_ASSET_MODEL}},
	})
	for _, a := range []protos.FunctionAction{protos.FunctionAction_FUNCTION_ACTION_BUILDING, protos.FunctionAction_FUNCTION_ACTION_READY} {
		call(dataOrg, "orchestrator.function:ApplyFunctionAction", &protos.ApplyFunctionActionParam{FunctionKey: fn, Action: a})
	}
	call(dataOrg, "orchestrator.datamanager:RegisterDataManager", &protos.NewDataManager{
		Key: dm, Name: "dm", NewPermissions: &protos.NewPermissions{Public: true},
		Description: addressable("d", dm), Opener: addressable("o", dm), Type: "bench",
		LogsPermission: &protos.NewPermissions{Public: true},
	})
	inputs := []*protos.ComputeTaskInput{{Identifier: "opener", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: dm}}}
	samples := &protos.RegisterDataSamplesParam{}
	for range 3 {
		s := uuid()
		samples.Samples = append(samples.Samples, &protos.NewDataSample{Key: s, DataManagerKeys: []string{dm}, Checksum: checksum(s)})
		inputs = append(inputs, &protos.ComputeTaskInput{Identifier: "datasamples", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: s}})
	}
	call(dataOrg, "orchestrator.datasample:RegisterDataSamples", samples)
	org1Only := &protos.NewPermissions{AuthorizedIds: []string{dataOrg}}

	// make bench-fabric's batches: independent tasks.
	const batches = 4
	plan := uuid()
	call(dataOrg, "orchestrator.computeplan:RegisterPlan", &protos.NewComputePlan{Key: plan, Name: "bench-0"})
	const registerTasks = "orchestrator.computetask:RegisterTasks"
	for range batches {
		req := &protos.RegisterTasksParam{}
		for i := range taskBatch {
			req.Tasks = append(req.Tasks, &protos.NewComputeTask{
				Key: uuid(), FunctionKey: fn, ComputePlanKey: plan, Inputs: inputs,
				Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: org1Only}},
				Metadata: map[string]string{"round": strconv.Itoa(i)},
			})
		}
		call(dataOrg, registerTasks, req)
	}
	reg := *c.bytes[registerTasks]
	perTask := float64(reg.writes) / float64(batches*taskBatch)
	t.Logf("RegisterTasks x%d (%d calls), %s", taskBatch, c.txs[registerTasks], reg.describe(float64(c.txs[registerTasks]*taskBatch)))

	// The lifecycle of a chain: each task but the first has the previous
	// one's model as input, so each DONE starts the next task.
	chain := &protos.RegisterTasksParam{}
	var keys []string
	for i := range taskBatch {
		k := uuid()
		in := slices.Clone(inputs)
		if i > 0 {
			in = append(in, &protos.ComputeTaskInput{Identifier: "models", Ref: &protos.ComputeTaskInput_ParentTaskOutput{
				ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: keys[i-1], OutputIdentifier: "model"}}})
		}
		keys = append(keys, k)
		chain.Tasks = append(chain.Tasks, &protos.NewComputeTask{
			Key: k, FunctionKey: fn, ComputePlanKey: plan, Inputs: in,
			Outputs:  map[string]*protos.NewComputeTaskOutput{"model": {Permissions: org1Only}},
			Metadata: map[string]string{"round": strconv.Itoa(i)},
		})
	}
	call(dataOrg, registerTasks, chain)
	for k := range c.bytes {
		delete(c.bytes, k)
		delete(c.txs, k)
	}
	for _, k := range keys {
		call(dataOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_EXECUTING})
		mk := uuid()
		call(dataOrg, "orchestrator.model:RegisterModels", &protos.RegisterModelsParam{Models: []*protos.NewModel{{
			Key: mk, ComputeTaskKey: k, ComputeTaskOutputIdentifier: "model", Address: addressable("m", mk)}}})
		call(dataOrg, "orchestrator.computetask:ApplyTaskAction", &protos.ApplyTaskActionParam{ComputeTaskKey: k, Action: protos.ComputeTaskAction_TASK_ACTION_DONE})
	}
	for _, tx := range []string{"orchestrator.computetask:ApplyTaskAction", "orchestrator.model:RegisterModels"} {
		t.Logf("%s (%d calls), per call: %s", tx, c.txs[tx], c.bytes[tx].describe(float64(c.txs[tx])))
	}
	if perTask > budget {
		t.Errorf("a %d-task RegisterTasks writes %.0f B per task, more than the budget of %d B", taskBatch, perTask, budget)
	}
}

// kvIter iterates over results already read.
type kvIter struct {
	kvs []*queryresult.KV
	i   int
}

func (it *kvIter) HasNext() bool { return it.i < len(it.kvs) }
func (it *kvIter) Close() error  { return nil }
func (it *kvIter) Next() (*queryresult.KV, error) {
	kv := it.kvs[it.i]
	it.i++
	return kv, nil
}
