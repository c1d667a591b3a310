package loadtest

import (
	"regexp"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/fedchain/orchestrator/protos"
)

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Seed = 42
	cfg.Functions = 7
	cfg.Samples = 45
	cfg.SampleBatch = 10
	cfg.Plans = 4
	cfg.TasksPerPlan = 12
	cfg.TaskBatch = 5
	cfg.SamplesPerTask = 4
	return cfg
}

func TestChunks(t *testing.T) {
	tests := []struct {
		n, size int
		want    []span
	}{
		{0, 5, nil},
		{5, 5, []span{{0, 5}}},
		{12, 5, []span{{0, 5}, {5, 10}, {10, 12}}},
		{3, 1, []span{{0, 1}, {1, 2}, {2, 3}}},
		{4, 0, []span{{0, 4}}},
		{1000, 100, nil}, // checked by size below
	}
	for _, tt := range tests {
		got := chunks(tt.n, tt.size)
		if tt.want != nil || tt.n == 0 {
			if !slices.Equal(got, tt.want) {
				t.Errorf("chunks(%d, %d) = %v, want %v", tt.n, tt.size, got, tt.want)
			}
			continue
		}
		if len(got) != 10 || got[9] != (span{900, 1000}) {
			t.Errorf("chunks(%d, %d) = %v", tt.n, tt.size, got)
		}
	}
}

func TestWorkloadKeys(t *testing.T) {
	cfg := testConfig()
	w := newWorkload(cfg)
	var all []string
	all = append(all, w.functions...)
	all = append(all, w.dataManager)
	all = append(all, w.samples...)
	all = append(all, w.plans...)
	for p := range w.tasks {
		all = append(all, w.tasks[p]...)
		for i := range w.tasks[p] {
			all = append(all, w.modelKey(p, i))
		}
	}
	want := cfg.Functions + 1 + cfg.Samples + cfg.Plans + 2*cfg.Plans*cfg.TasksPerPlan
	if len(all) != want {
		t.Fatalf("%d keys, want %d", len(all), want)
	}
	seen := map[string]bool{}
	for _, k := range all {
		if _, err := uuid.Parse(k); err != nil {
			t.Fatalf("key %q is not a UUID: %v", k, err)
		}
		if seen[k] {
			t.Fatalf("key %s used twice", k)
		}
		seen[k] = true
	}

	// Same seed, same keys; another seed, no key in common.
	again := newWorkload(cfg)
	if !slices.Equal(again.samples, w.samples) || again.tasks[3][11] != w.tasks[3][11] {
		t.Error("the same seed planned other keys")
	}
	cfg.Seed = 43
	other := newWorkload(cfg)
	for _, k := range append(append(other.functions, other.samples...), other.plans...) {
		if seen[k] {
			t.Fatalf("seeds 42 and 43 share key %s", k)
		}
	}
	if w.dataOrg != "MyOrg1MSP" || w.algoOrg != "MyOrg2MSP" {
		t.Errorf("data org %q algo org %q", w.dataOrg, w.algoOrg)
	}
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestWorkloadRequests(t *testing.T) {
	cfg := testConfig()
	w := newWorkload(cfg)

	f := w.newFunction(3)
	if f.Key != w.functions[3] || !f.NewPermissions.Public || f.Name == "" {
		t.Errorf("function: %v", f)
	}
	for _, a := range []*protos.Addressable{f.Description, f.Archive, w.newDataManager().Opener, w.newModel(1, 2).Address} {
		if !hex64.MatchString(a.Checksum) || a.StorageAddress == "" {
			t.Errorf("addressable %v: want a 64 hex digit checksum and an address", a)
		}
	}
	if dm := w.newDataManager(); dm.LogsPermission == nil || dm.NewPermissions == nil || dm.Key != w.dataManager {
		t.Errorf("data manager: %v", dm)
	}

	// Samples: every one exactly once, batches of at most SampleBatch, in
	// the data manager, with valid checksums.
	var got []string
	for _, b := range w.sampleBatches() {
		if len(b.Samples) == 0 || len(b.Samples) > cfg.SampleBatch {
			t.Errorf("batch of %d samples, want 1..%d", len(b.Samples), cfg.SampleBatch)
		}
		for _, s := range b.Samples {
			got = append(got, s.Key)
			if !slices.Equal(s.DataManagerKeys, []string{w.dataManager}) || !hex64.MatchString(s.Checksum) {
				t.Errorf("sample %v", s)
			}
		}
	}
	if !slices.Equal(got, w.samples) {
		t.Errorf("batches hold %d samples, want the %d in order", len(got), len(w.samples))
	}

	// Plans and tasks.
	for p := range cfg.Plans {
		if np := w.newPlan(p); np.Key != w.plans[p] || np.Name == "" {
			t.Errorf("plan %d: %v", p, np)
		}
		batches := w.taskBatches(p)
		if len(batches) != 3 { // 12 tasks, batches of 5
			t.Fatalf("plan %d: %d batches, want 3", p, len(batches))
		}
		registered := map[string]bool{}
		i := 0
		for _, b := range batches {
			if len(b.Tasks) > cfg.TaskBatch {
				t.Errorf("batch of %d tasks > %d", len(b.Tasks), cfg.TaskBatch)
			}
			for _, nt := range b.Tasks {
				checkTask(t, w, p, i, nt, registered)
				registered[nt.Key] = true
				i++
			}
		}
		if i != cfg.TasksPerPlan {
			t.Errorf("plan %d: %d tasks, want %d", p, i, cfg.TasksPerPlan)
		}
	}
}

// checkTask checks task i of plan p against the function it runs: every
// input declared with the right multiplicity, the mandatory ones present,
// its parent (task i-1) registered before it.
func checkTask(t *testing.T, w *workload, p, i int, nt *protos.NewComputeTask, registered map[string]bool) {
	t.Helper()
	if nt.Key != w.tasks[p][i] || nt.ComputePlanKey != w.plans[p] || nt.Worker != w.dataOrg {
		t.Errorf("task %d/%d: key %s plan %s worker %s", p, i, nt.Key, nt.ComputePlanKey, nt.Worker)
	}
	fi := slices.Index(w.functions, nt.FunctionKey)
	if fi != w.functionOf(p, i) {
		t.Fatalf("task %d/%d runs function %d, want %d", p, i, fi, w.functionOf(p, i))
	}
	fn := w.newFunction(fi)
	count := map[string]int{}
	for _, in := range nt.Inputs {
		decl, ok := fn.Inputs[in.Identifier]
		if !ok {
			t.Fatalf("task %d/%d: input %q not declared by the function", p, i, in.Identifier)
		}
		count[in.Identifier]++
		switch decl.Kind {
		case protos.AssetKind_ASSET_DATA_MANAGER:
			if in.GetAssetKey() != w.dataManager {
				t.Errorf("task %d/%d: opener %v", p, i, in)
			}
		case protos.AssetKind_ASSET_DATA_SAMPLE:
			if !slices.Contains(w.samples, in.GetAssetKey()) {
				t.Errorf("task %d/%d: sample %v is not registered", p, i, in)
			}
		case protos.AssetKind_ASSET_MODEL:
			ref := in.GetParentTaskOutput()
			if ref == nil || ref.ParentTaskKey != w.tasks[p][i-1] || ref.OutputIdentifier != OutputModel {
				t.Errorf("task %d/%d: model input %v, want the model of task %d", p, i, in, i-1)
			} else if !registered[ref.ParentTaskKey] {
				t.Errorf("task %d/%d: parent %s is not registered before it", p, i, ref.ParentTaskKey)
			}
		}
	}
	for id, decl := range fn.Inputs {
		if count[id] == 0 && !decl.Optional {
			t.Errorf("task %d/%d: mandatory input %q missing", p, i, id)
		}
		if count[id] > 1 && !decl.Multiple {
			t.Errorf("task %d/%d: input %q given %d times", p, i, id, count[id])
		}
	}
	if want := min(1, i); count[InputModels] != want {
		t.Errorf("task %d/%d: %d model inputs, want %d", p, i, count[InputModels], want)
	}
	if count[InputDataSamples] != w.cfg.SamplesPerTask {
		t.Errorf("task %d/%d: %d samples, want %d", p, i, count[InputDataSamples], w.cfg.SamplesPerTask)
	}
	if len(nt.Outputs) != 1 || nt.Outputs[OutputModel] == nil || !nt.Outputs[OutputModel].Permissions.Public {
		t.Errorf("task %d/%d: outputs %v, want a public model", p, i, nt.Outputs)
	}
	if m := w.newModel(p, i); m.ComputeTaskKey != nt.Key || m.ComputeTaskOutputIdentifier != OutputModel {
		t.Errorf("task %d/%d: model %v", p, i, m)
	}
}

func TestWorkloadSpread(t *testing.T) {
	cfg := testConfig()
	w := newWorkload(cfg)
	perFunction := make([]int, cfg.Functions)
	perSample := make([]int, cfg.Samples)
	for p := range cfg.Plans {
		for i := range cfg.TasksPerPlan {
			perFunction[w.functionOf(p, i)]++
			s := w.samplesOf(p, i)
			if len(s) != cfg.SamplesPerTask || len(slices.Compact(slices.Sorted(slices.Values(s)))) != len(s) {
				t.Fatalf("task %d/%d: samples %v, want %d distinct", p, i, s, cfg.SamplesPerTask)
			}
			for _, j := range s {
				perSample[j]++
			}
		}
	}
	// 48 tasks over 7 functions: 6 or 7 each; 192 sample uses over 45
	// samples: 4 or 5 each.
	if lo, hi := slices.Min(perFunction), slices.Max(perFunction); lo != 6 || hi != 7 {
		t.Errorf("tasks per function between %d and %d, want 6 and 7", lo, hi)
	}
	if lo, hi := slices.Min(perSample), slices.Max(perSample); lo != 4 || hi != 5 {
		t.Errorf("uses per sample between %d and %d, want 4 and 5", lo, hi)
	}

	// More samples per task than samples: each sample once.
	small := cfg
	small.Samples, small.SamplesPerTask = 3, 10
	if s := newWorkload(small).samplesOf(1, 1); len(s) != 3 {
		t.Errorf("samples of a task with 3 samples registered: %v", s)
	}

	keys := w.randomTasks(500)
	if len(keys) != 500 || !slices.Equal(keys, newWorkload(cfg).randomTasks(500)) {
		t.Fatal("randomTasks is not reproducible")
	}
	all := map[string]bool{}
	for p := range w.tasks {
		for _, k := range w.tasks[p] {
			all[k] = true
		}
	}
	distinct := map[string]bool{}
	for _, k := range keys {
		if !all[k] {
			t.Fatalf("random task %s is not a task of the workload", k)
		}
		distinct[k] = true
	}
	if len(distinct) < 40 { // 500 draws among 48 tasks
		t.Errorf("500 random draws hit only %d of 48 tasks", len(distinct))
	}
}

func TestInitialStatus(t *testing.T) {
	cfg := testConfig()
	r := newRunner(cfg, nil, nil)
	if got := r.initialStatus(0, 0); got != protos.ComputeTaskStatus_STATUS_WAITING_FOR_BUILDER_SLOT {
		t.Errorf("function not built: %s", got)
	}
	for i := range r.builtOK {
		r.builtOK[i] = true
	}
	if got := r.initialStatus(0, 0); got != protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT {
		t.Errorf("first task, function built: %s", got)
	}
	if got := r.initialStatus(0, 1); got != protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS {
		t.Errorf("second task, function built: %s", got)
	}
}
