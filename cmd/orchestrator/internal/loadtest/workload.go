package loadtest

import (
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/fedchain/orchestrator/protos"
)

// Identifiers of the inputs and output of the train functions the workload
// registers (the shape of a Substra "simple" train function).
const (
	InputDataSamples = "datasamples"
	InputOpener      = "opener"
	InputModels      = "models"
	OutputModel      = "model"
)

// keySpace is the UUID namespace the workload keys derive from.
var keySpace = uuid.MustParse("5f0c1d4e-8c3a-4e27-9b1e-7a0f3c2d9e61")

// workload is the planned content of one run: every key and request is
// derived from the seed, so a run is reproducible and two runs with
// different seeds never collide on the same server.
type workload struct {
	cfg Config
	// dataOrg owns the data manager and samples and is every task's worker;
	// algoOrg owns the functions, plans and tasks.
	dataOrg, algoOrg string

	functions   []string   // function keys
	dataManager string     // data manager key
	samples     []string   // data sample keys
	plans       []string   // compute plan keys
	tasks       [][]string // tasks[p][i]: key of task i of plan p
}

// newWorkload plans a run of cfg.
func newWorkload(cfg Config) *workload {
	w := &workload{cfg: cfg, dataOrg: cfg.Orgs[0], algoOrg: cfg.Orgs[len(cfg.Orgs)-1]}
	key := func(kind string, i ...int) string {
		return uuid.NewSHA1(keySpace, fmt.Appendf(nil, "%d/%s/%v", cfg.Seed, kind, i)).String()
	}
	w.functions = make([]string, cfg.Functions)
	for i := range w.functions {
		w.functions[i] = key("function", i)
	}
	w.dataManager = key("datamanager")
	w.samples = make([]string, cfg.Samples)
	for i := range w.samples {
		w.samples[i] = key("sample", i)
	}
	w.plans = make([]string, cfg.Plans)
	w.tasks = make([][]string, cfg.Plans)
	for p := range w.plans {
		w.plans[p] = key("plan", p)
		w.tasks[p] = make([]string, cfg.TasksPerPlan)
		for i := range w.tasks[p] {
			w.tasks[p][i] = key("task", p, i)
		}
	}
	return w
}

// taskCount is the number of tasks of the workload.
func (w *workload) taskCount() int { return len(w.plans) * w.cfg.TasksPerPlan }

// modelKey is the key of the model that task i of plan p outputs.
func (w *workload) modelKey(p, i int) string {
	return uuid.NewSHA1(keySpace, fmt.Appendf(nil, "%d/model/%d/%d", w.cfg.Seed, p, i)).String()
}

// checksum is a valid (64 hex digits) checksum derived from s.
func checksum(s string) string {
	a := uuid.NewSHA1(keySpace, []byte(s+"/a"))
	b := uuid.NewSHA1(keySpace, []byte(s+"/b"))
	return fmt.Sprintf("%x%x", a[:], b[:])
}

func addressable(kind, key string) *protos.Addressable {
	return &protos.Addressable{
		Checksum:       checksum(kind + key),
		StorageAddress: "http://storage.loadtest.invalid/" + kind + "/" + key,
	}
}

// newFunction is the registration of function i: a train function that reads
// samples through an opener, optionally starts from models, and outputs one
// model; processable by everyone.
func (w *workload) newFunction(i int) *protos.NewFunction {
	k := w.functions[i]
	return &protos.NewFunction{
		Key:            k,
		Name:           fmt.Sprintf("loadtest train function %d", i),
		Description:    addressable("function-description", k),
		Archive:        addressable("function-archive", k),
		NewPermissions: &protos.NewPermissions{Public: true},
		Inputs: map[string]*protos.FunctionInput{
			InputDataSamples: {Kind: protos.AssetKind_ASSET_DATA_SAMPLE, Multiple: true},
			InputOpener:      {Kind: protos.AssetKind_ASSET_DATA_MANAGER},
			InputModels:      {Kind: protos.AssetKind_ASSET_MODEL, Multiple: true, Optional: true},
		},
		Outputs: map[string]*protos.FunctionOutput{
			OutputModel: {Kind: protos.AssetKind_ASSET_MODEL},
		},
		Metadata: map[string]string{"loadtest_seed": fmt.Sprint(w.cfg.Seed)},
	}
}

// newDataManager is the registration of the data manager.
func (w *workload) newDataManager() *protos.NewDataManager {
	k := w.dataManager
	return &protos.NewDataManager{
		Key:            k,
		Name:           "loadtest data manager",
		NewPermissions: &protos.NewPermissions{Public: true},
		Description:    addressable("datamanager-description", k),
		Opener:         addressable("datamanager-opener", k),
		Type:           "loadtest",
		LogsPermission: &protos.NewPermissions{Public: true},
	}
}

// sampleBatches returns the data sample registrations in batches of at most
// cfg.SampleBatch.
func (w *workload) sampleBatches() []*protos.RegisterDataSamplesParam {
	var out []*protos.RegisterDataSamplesParam
	for _, chunk := range chunks(len(w.samples), w.cfg.SampleBatch) {
		p := &protos.RegisterDataSamplesParam{}
		for i := chunk.from; i < chunk.to; i++ {
			p.Samples = append(p.Samples, &protos.NewDataSample{
				Key:             w.samples[i],
				DataManagerKeys: []string{w.dataManager},
				Checksum:        checksum("sample" + w.samples[i]),
			})
		}
		out = append(out, p)
	}
	return out
}

// newPlan is the registration of plan p.
func (w *workload) newPlan(p int) *protos.NewComputePlan {
	return &protos.NewComputePlan{
		Key:      w.plans[p],
		Name:     fmt.Sprintf("loadtest plan %d", p),
		Tag:      "loadtest",
		Metadata: map[string]string{"loadtest_seed": fmt.Sprint(w.cfg.Seed)},
	}
}

// functionOf returns the index of the function that task i of plan p runs:
// the tasks are spread round-robin over the functions.
func (w *workload) functionOf(p, i int) int {
	return (p*w.cfg.TasksPerPlan + i) % len(w.functions)
}

// samplesOf returns the indexes of the data samples task i of plan p trains
// on: SamplesPerTask consecutive samples (wrapping), a different window for
// every task.
func (w *workload) samplesOf(p, i int) []int {
	n := min(w.cfg.SamplesPerTask, len(w.samples))
	start := ((p*w.cfg.TasksPerPlan + i) * n) % len(w.samples)
	out := make([]int, n)
	for j := range out {
		out[j] = (start + j) % len(w.samples)
	}
	return out
}

// newTask is the registration of task i of plan p: it trains on its samples
// and, unless it is the first of its plan, on the model of task i-1.
func (w *workload) newTask(p, i int) *protos.NewComputeTask {
	inputs := []*protos.ComputeTaskInput{
		{Identifier: InputOpener, Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: w.dataManager}},
	}
	for _, s := range w.samplesOf(p, i) {
		inputs = append(inputs, &protos.ComputeTaskInput{
			Identifier: InputDataSamples,
			Ref:        &protos.ComputeTaskInput_AssetKey{AssetKey: w.samples[s]},
		})
	}
	if i > 0 {
		inputs = append(inputs, &protos.ComputeTaskInput{
			Identifier: InputModels,
			Ref: &protos.ComputeTaskInput_ParentTaskOutput{ParentTaskOutput: &protos.ParentTaskOutputRef{
				ParentTaskKey:    w.tasks[p][i-1],
				OutputIdentifier: OutputModel,
			}},
		})
	}
	return &protos.NewComputeTask{
		Key:            w.tasks[p][i],
		FunctionKey:    w.functions[w.functionOf(p, i)],
		ComputePlanKey: w.plans[p],
		Worker:         w.dataOrg,
		Metadata:       map[string]string{"rank": fmt.Sprint(i)},
		Inputs:         inputs,
		Outputs: map[string]*protos.NewComputeTaskOutput{
			OutputModel: {Permissions: &protos.NewPermissions{Public: true}},
		},
	}
}

// taskBatches returns the task registrations of plan p in order, in batches
// of at most cfg.TaskBatch; a batch only refers to parents of the same batch
// or of an earlier one.
func (w *workload) taskBatches(p int) []*protos.RegisterTasksParam {
	var out []*protos.RegisterTasksParam
	for _, chunk := range chunks(w.cfg.TasksPerPlan, w.cfg.TaskBatch) {
		b := &protos.RegisterTasksParam{}
		for i := chunk.from; i < chunk.to; i++ {
			b.Tasks = append(b.Tasks, w.newTask(p, i))
		}
		out = append(out, b)
	}
	return out
}

// newModel is the model that task i of plan p outputs.
func (w *workload) newModel(p, i int) *protos.NewModel {
	k := w.modelKey(p, i)
	return &protos.NewModel{
		Key:                         k,
		ComputeTaskKey:              w.tasks[p][i],
		ComputeTaskOutputIdentifier: OutputModel,
		Address:                     addressable("model", k),
	}
}

// randomTasks returns n task keys drawn uniformly (with replacement) by a
// generator seeded with the run's seed.
func (w *workload) randomTasks(n int) []string {
	total := w.taskCount()
	if total == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(w.cfg.Seed), 0x6c6f6164))
	out := make([]string, n)
	for j := range out {
		t := r.IntN(total)
		out[j] = w.tasks[t/w.cfg.TasksPerPlan][t%w.cfg.TasksPerPlan]
	}
	return out
}

// span is the half-open index range [from, to).
type span struct{ from, to int }

// chunks splits [0, n) into consecutive spans of at most size elements.
func chunks(n, size int) []span {
	if size <= 0 {
		size = max(n, 1)
	}
	var out []span
	for from := 0; from < n; from += size {
		out = append(out, span{from, min(from+size, n)})
	}
	return out
}
