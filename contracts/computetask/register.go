package computetask

import (
	"slices"

	"github.com/fedchain/orchestrator/contracts/permission"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Register registers a batch of tasks for owner in one go: all of them or
// none. Tasks may reference each other in any order; they are registered
// (and returned) parents first.
func (s *Session) Register(batch []*protos.NewComputeTask, owner string) ([]*protos.ComputeTask, error) {
	created, _, err := s.register(batch, owner)
	return created, err
}

// register is Register that also returns the stored record of each task,
// its deterministic encoding, in the same order.
func (s *Session) register(batch []*protos.NewComputeTask, owner string) ([]*protos.ComputeTask, [][]byte, error) {
	if len(batch) == 0 {
		return nil, nil, orcerr.New(orcerr.BadRequest, "no task to register")
	}
	// The keys a task adds to the transaction: its lookup, its record and
	// eight index entries, its event's four keys; then a few more per
	// batch (functions, plan).
	s.env.Reserve(16 * len(batch))
	keys := make([]string, 0, len(batch))
	inBatch := make(map[string]bool, len(batch))
	for _, nt := range batch {
		if err := validateNewTask(nt); err != nil {
			return nil, nil, validation.Asset("computetask", err)
		}
		if inBatch[nt.GetKey()] {
			return nil, nil, orcerr.New(orcerr.Conflict, "compute task %s appears twice in the batch", nt.GetKey())
		}
		inBatch[nt.GetKey()] = true
		keys = append(keys, nt.GetKey())
	}
	// One read for the keys of the batch and the parents it names.
	lookup := slices.Clone(keys)
	for _, nt := range batch {
		for _, p := range ParentKeys(nt.GetInputs()) {
			if !inBatch[p] {
				lookup = append(lookup, p)
			}
		}
	}
	if err := s.loadTasks(lookup); err != nil {
		return nil, nil, err
	}
	if err := s.preloadFunctions(batch); err != nil {
		return nil, nil, err
	}
	if err := s.preloadSamples(batch); err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		if _, ok := s.tasks[k]; ok {
			return nil, nil, orcerr.New(orcerr.Conflict, "computetask with key %q already exists", k)
		}
	}
	ordered, err := registrationOrder(batch, func(k string) bool {
		_, ok := s.tasks[k]
		return ok && !inBatch[k]
	})
	if err != nil {
		return nil, nil, err
	}
	now := s.env.Now()
	created := make([]*protos.ComputeTask, 0, len(ordered))
	for _, nt := range ordered {
		t, err := s.build(nt, owner)
		if err != nil {
			return nil, nil, err
		}
		t.CreationDate = now
		s.tasks[t.GetKey()] = t
		created = append(created, t)
	}
	used := make(map[string]bool)
	records := make([][]byte, 0, len(created))
	for _, t := range created {
		b, err := ledger.StoreNewComputeTask(s.stub, t, ParentKeys(t.GetInputs()))
		if err != nil {
			return nil, nil, err
		}
		records = append(records, b)
		if pair := t.GetComputePlanKey() + "/" + t.GetFunctionKey(); !used[pair] {
			used[pair] = true
			if err := s.env.FunctionUsedInPlan(t.GetComputePlanKey(), s.functions[t.GetFunctionKey()]); err != nil {
				return nil, nil, err
			}
		}
		// A new task does not change again in the transaction that
		// registers it: the event may hold it without a copy, and its
		// stored record is its encoding.
		if err := s.emitTask(protos.EventKind_EVENT_ASSET_CREATED, t, b, nil); err != nil {
			return nil, nil, err
		}
	}
	return created, records, nil
}

// preloadFunctions reads the functions that the batch names and the
// session does not know yet in one go (Env.PreloadFunctions), so that
// Function then finds them. Only a failed read is an error: a missing
// function or a bad key fails later in the checks, in their order.
func (s *Session) preloadFunctions(batch []*protos.NewComputeTask) error {
	keys := make([]string, 0, len(batch))
	for _, nt := range batch {
		if _, ok := s.functions[nt.GetFunctionKey()]; !ok {
			keys = append(keys, nt.GetFunctionKey())
		}
	}
	slices.Sort(keys)
	if keys = slices.Compact(keys); len(keys) > 1 {
		return s.env.PreloadFunctions(keys)
	}
	return nil
}

// preloadSamples reads the records of the data samples that the batch
// names in one go (Env.DataSampleRecords), so that the checks, which read
// them one by one, find them in the session (sampleRecords). Only a failed
// read is an error: a missing function or sample, or a bad key, fails
// later in the checks, in their order.
func (s *Session) preloadSamples(batch []*protos.NewComputeTask) error {
	var keys []string
	for _, nt := range batch {
		fn, err := s.Function(nt.GetFunctionKey())
		if err != nil {
			continue // reported by build, in the order of the checks
		}
		for _, in := range nt.GetInputs() {
			k := in.GetAssetKey()
			if k == "" || fn.GetInputs()[in.GetIdentifier()].GetKind() != protos.AssetKind_ASSET_DATA_SAMPLE {
				continue
			}
			if _, ok := s.samples[k]; ok {
				continue
			}
			keys = append(keys, k)
		}
	}
	// Each key once; the order does not matter (the reads only fill a
	// cache).
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return nil
	}
	recs, err := s.env.DataSampleRecords(keys)
	if err != nil {
		return err
	}
	if s.sampleRecords == nil {
		s.sampleRecords = make(map[string][]byte, len(keys))
	}
	for i, b := range recs {
		if b != nil {
			s.sampleRecords[keys[i]] = b
		}
	}
	return nil
}

// build turns a new task into a task, checking it against its plan,
// function, parents and input assets. Its parents are known to the session.
func (s *Session) build(nt *protos.NewComputeTask, owner string) (*protos.ComputeTask, error) {
	plan, err := s.Plan(nt.GetComputePlanKey())
	if err != nil {
		return nil, err
	}
	if plan.GetOwner() != owner {
		return nil, orcerr.New(orcerr.PermissionDenied, "Cannot register tasks to a compute plan you don't own: compute plan %s is owned by %s", plan.GetKey(), plan.GetOwner())
	}
	parentKeys := ParentKeys(nt.GetInputs())
	parents := make([]*protos.ComputeTask, 0, len(parentKeys))
	for _, k := range parentKeys {
		p, err := s.Task(k)
		if err != nil {
			return nil, err
		}
		parents = append(parents, p)
	}
	fn, err := s.Function(nt.GetFunctionKey())
	if err != nil {
		return nil, err
	}
	if !permission.CanProcess(fn.GetPermissions(), owner) {
		return nil, orcerr.New(orcerr.PermissionDenied, "not authorized to process function %q", fn.GetKey())
	}
	if err := s.parentModelsAvailable(parents); err != nil {
		return nil, err
	}
	outputs := make(map[string]*protos.ComputeTaskOutput, len(nt.GetOutputs()))
	for _, id := range sortedKeys(nt.GetOutputs()) {
		out := nt.GetOutputs()[id]
		perms, err := s.newPermissions(owner, out.GetPermissions())
		if err != nil {
			return nil, err
		}
		outputs[id] = &protos.ComputeTaskOutput{Permissions: perms, Transient: out.GetTransient()}
	}
	worker, err := s.worker(nt, fn)
	if err != nil {
		return nil, err
	}
	ok, err := s.orgExists(worker)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, orcerr.New(orcerr.NotFound, "organization with key %q not found", worker)
	}
	logs, err := s.logsPermission(owner, parents, nt.GetInputs(), fn)
	if err != nil {
		return nil, err
	}
	t := &protos.ComputeTask{
		Key:            nt.GetKey(),
		FunctionKey:    fn.GetKey(),
		Owner:          owner,
		ComputePlanKey: nt.GetComputePlanKey(),
		Metadata:       nt.GetMetadata(),
		Status:         initialStatus(parents, fn.GetStatus()),
		Rank:           rank(parents),
		Inputs:         nt.GetInputs(),
		Outputs:        outputs,
		Worker:         worker,
		LogsPermission: logs,
	}
	if err := s.checkInputs(t, fn); err != nil {
		return nil, err
	}
	if err := checkOutputs(t, fn); err != nil {
		return nil, err
	}
	return t, nil
}

// parentModelsAvailable refuses a task whose done parents had a model
// disabled: the task could never read it.
func (s *Session) parentModelsAvailable(parents []*protos.ComputeTask) error {
	for _, p := range parents {
		if p.GetStatus() != protos.ComputeTaskStatus_STATUS_DONE {
			continue
		}
		models, ok := s.models[p.GetKey()]
		if !ok {
			var err error
			if models, err = ledger.ComputeTaskOutputModels(s.stub, p.GetKey()); err != nil {
				return err
			}
			s.models[p.GetKey()] = models
		}
		for _, m := range models {
			if m.GetAddress() == nil {
				return orcerr.New(orcerr.InvalidAsset, "Model %q has been disabled", m.GetKey())
			}
		}
	}
	return nil
}

// worker infers where a task runs: where its data is (the owner of its
// data manager); a task without data must name its worker.
func (s *Session) worker(nt *protos.NewComputeTask, fn *protos.Function) (string, error) {
	for _, in := range nt.GetInputs() {
		fi, ok := fn.GetInputs()[in.GetIdentifier()]
		if !ok {
			return "", unknownInput(in.GetIdentifier())
		}
		if fi.GetKind() != protos.AssetKind_ASSET_DATA_MANAGER {
			continue
		}
		if in.GetAssetKey() == "" {
			return "", orcerr.New(orcerr.InvalidAsset, "invalid task input %q: openers must be referenced using an asset key", in.GetIdentifier())
		}
		dm, err := s.dataManager(in.GetAssetKey())
		if err != nil {
			return "", err
		}
		if nt.GetWorker() != "" && nt.GetWorker() != dm.GetOwner() {
			return "", orcerr.New(orcerr.BadRequest, "Specified worker %q does not match data manager owner: %q", nt.GetWorker(), dm.GetOwner())
		}
		return dm.GetOwner(), nil
	}
	if nt.GetWorker() == "" {
		return "", orcerr.New(orcerr.BadRequest, "Worker cannot be inferred and must be explicitly set")
	}
	return nt.GetWorker(), nil
}

func unknownInput(id string) error {
	return orcerr.New(orcerr.InvalidAsset, "unknown task input: this identifier was not declared in the Function: %q", id)
}

// logsPermission: a task reading data inherits the logs permission of the
// data manager; any other task, the union of its parents' and its owner.
func (s *Session) logsPermission(owner string, parents []*protos.ComputeTask, inputs []*protos.ComputeTaskInput, fn *protos.Function) (*protos.Permission, error) {
	for _, in := range inputs {
		fi, ok := fn.GetInputs()[in.GetIdentifier()]
		if !ok {
			return nil, unknownInput(in.GetIdentifier())
		}
		if fi.GetKind() != protos.AssetKind_ASSET_DATA_MANAGER {
			continue
		}
		if in.GetAssetKey() == "" {
			return nil, orcerr.New(orcerr.InvalidAsset, "invalid task input %q: openers must be referenced using an asset key", in.GetIdentifier())
		}
		dm, err := s.dataManager(in.GetAssetKey())
		if err != nil {
			return nil, err
		}
		return dm.GetLogsPermission(), nil
	}
	logs := &protos.Permission{AuthorizedIds: []string{owner}}
	for _, p := range parents {
		logs = permission.Union(p.GetLogsPermission(), logs)
	}
	return logs, nil
}

// checkInputs matches the task inputs against the function inputs and
// checks the referenced assets and the rights on them.
func (s *Session) checkInputs(t *protos.ComputeTask, fn *protos.Function) error {
	// The identifiers met, each once: they are among the function's
	// inputs, which are few, so a slice beats a map.
	var seen []string
	for _, in := range t.GetInputs() {
		id := in.GetIdentifier()
		fi, ok := fn.GetInputs()[id]
		if !ok {
			return unknownInput(id)
		}
		if slices.Contains(seen, id) {
			if !fi.GetMultiple() {
				return orcerr.New(orcerr.InvalidAsset, "duplicate task input: this identifier is present multiple times in the task inputs, but it was not declared as \"Multiple\" in the Function: %q", id)
			}
		} else {
			seen = append(seen, id)
		}
		var err error
		switch fi.GetKind() {
		case protos.AssetKind_ASSET_DATA_SAMPLE:
			// checked together with the data manager
		case protos.AssetKind_ASSET_DATA_MANAGER:
			err = s.checkDataManagerInput(in, t, fn)
		default:
			err = s.checkInputRef(fi, in, t.GetWorker())
		}
		if err != nil {
			return err
		}
	}
	// In map order, then in key order to name the first missing input
	// (see checkOutputs).
	for id, fi := range fn.GetInputs() {
		if !fi.GetOptional() && !slices.Contains(seen, id) {
			for _, id := range sortedKeys(fn.GetInputs()) {
				if !fn.GetInputs()[id].GetOptional() && !slices.Contains(seen, id) {
					return orcerr.New(orcerr.InvalidAsset, "missing task input: this identifier is required by the Function: %q", id)
				}
			}
		}
	}
	return nil
}

// checkDataManagerInput checks that the owner may process the data manager
// and that every data sample input belongs to it.
func (s *Session) checkDataManagerInput(dmIn *protos.ComputeTaskInput, t *protos.ComputeTask, fn *protos.Function) error {
	dmKey := dmIn.GetAssetKey()
	if dmKey == "" {
		return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: openers must be referenced using an asset key", dmIn.GetIdentifier())
	}
	var sampleKeys []string
	for _, in := range t.GetInputs() {
		fi, ok := fn.GetInputs()[in.GetIdentifier()]
		if !ok {
			return unknownInput(in.GetIdentifier())
		}
		if fi.GetKind() != protos.AssetKind_ASSET_DATA_SAMPLE {
			continue
		}
		if in.GetAssetKey() == "" {
			return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: data samples must be referenced using an asset key", in.GetIdentifier())
		}
		sampleKeys = append(sampleKeys, in.GetAssetKey())
	}
	dm, err := s.dataManager(dmKey)
	if err != nil {
		return err
	}
	if !permission.CanProcess(dm.GetPermissions(), t.GetOwner()) {
		return orcerr.New(orcerr.PermissionDenied, "not authorized to process datamanager %q", dmKey)
	}
	for _, k := range sampleKeys {
		ok, err := s.sampleHasManager(k, dmKey)
		if err != nil {
			return err
		}
		if !ok {
			return orcerr.New(orcerr.InvalidAsset, "datasamples do not share a common manager: data sample %s does not belong to data manager %s", k, dmKey)
		}
	}
	return nil
}

// sampleHasManager reports whether data sample key belongs to data manager
// dm; OE0002 when the sample is unknown.
func (s *Session) sampleHasManager(key, dm string) (bool, error) {
	if d, ok := s.samples[key]; ok {
		return slices.Contains(d.GetDataManagerKeys(), dm), nil
	}
	if b, ok := s.sampleRecords[key]; ok {
		return ledger.DataSampleRecordHasManager(key, b, dm)
	}
	return s.env.DataSampleHasManager(key, dm)
}

// checkInputRef checks an input that is neither data manager nor data
// sample: a model by key, or the output of a parent task, which the worker
// must be allowed to process.
func (s *Session) checkInputRef(fi *protos.FunctionInput, in *protos.ComputeTaskInput, worker string) error {
	id := in.GetIdentifier()
	switch ref := in.GetRef().(type) {
	case *protos.ComputeTaskInput_AssetKey:
		if fi.GetKind() != protos.AssetKind_ASSET_MODEL {
			return orcerr.New(orcerr.Unimplemented, "invalid task input %q: invalid asset kind (assets of kind %s cannot be referenced by key)", id, fi.GetKind())
		}
		m, err := ledger.GetModel(s.stub, ref.AssetKey)
		if err != nil {
			return err
		}
		if !permission.CanProcess(m.GetPermissions(), worker) {
			return orcerr.New(orcerr.PermissionDenied, "not authorized to process model %q", m.GetKey())
		}
		return nil
	case *protos.ComputeTaskInput_ParentTaskOutput:
		pk, outID := ref.ParentTaskOutput.GetParentTaskKey(), ref.ParentTaskOutput.GetOutputIdentifier()
		parent, err := s.Task(pk)
		if err != nil {
			if orcerr.KindOf(err) == orcerr.NotFound {
				return orcerr.Wrap(orcerr.InvalidAsset, err, "invalid task input %q: parent task key %s not found", id, pk)
			}
			return err
		}
		pfn, err := s.Function(parent.GetFunctionKey())
		if err != nil {
			return err
		}
		fo, ok := pfn.GetOutputs()[outID]
		if !ok {
			return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: parent task %s: function output not found: %q", id, pk, outID)
		}
		if fo.GetKind() != fi.GetKind() {
			return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: mismatching task input asset kinds: expecting %s but parent task output has kind %s", id, fi.GetKind(), fo.GetKind())
		}
		if fo.GetMultiple() && !fi.GetMultiple() {
			return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: multiple task output used as single task input", id)
		}
		o, ok := parent.GetOutputs()[outID]
		if !ok {
			return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: parent task %s: output not found: %q", id, pk, outID)
		}
		if !permission.CanProcess(o.GetPermissions(), worker) {
			return orcerr.New(orcerr.PermissionDenied, "invalid task input %q: worker %q doesn't have permission to process output %q of task %s", id, worker, outID, pk)
		}
		return nil
	}
	return orcerr.New(orcerr.InvalidAsset, "invalid task input %q: an asset or task output reference must be specified", id)
}

// checkOutputs matches the task outputs against the function outputs: all
// declared, none extra, performances public and kept.
func checkOutputs(t *protos.ComputeTask, fn *protos.Function) error {
	// The outputs are checked in map order, and again in key order only
	// when one is wrong, to report the first in key order: sorting them
	// for every task of a batch costs more than the checks.
	for id, out := range t.GetOutputs() {
		if checkOutput(t, fn, id, out) != nil {
			for _, id := range sortedKeys(t.GetOutputs()) {
				if err := checkOutput(t, fn, id, t.GetOutputs()[id]); err != nil {
					return err
				}
			}
		}
	}
	for id := range fn.GetOutputs() {
		if _, ok := t.GetOutputs()[id]; !ok {
			for _, id := range sortedKeys(fn.GetOutputs()) {
				if _, ok := t.GetOutputs()[id]; !ok {
					return orcerr.New(orcerr.InvalidAsset, "invalid task %s, missing task output: this identifier is required by the Function: %q", t.GetKey(), id)
				}
			}
		}
	}
	return nil
}

// checkOutput checks the task output id against the function outputs.
func checkOutput(t *protos.ComputeTask, fn *protos.Function, id string, out *protos.ComputeTaskOutput) error {
	fo, ok := fn.GetOutputs()[id]
	if !ok {
		return orcerr.New(orcerr.InvalidAsset, "invalid task %s, unknown task output: this identifier was not declared in the Function: %q", t.GetKey(), id)
	}
	if fo.GetKind() == protos.AssetKind_ASSET_PERFORMANCE {
		if !out.GetPermissions().GetProcess().GetPublic() {
			return orcerr.New(orcerr.InvalidAsset, "invalid task %s, invalid task output %q: a PERFORMANCE output should be public", t.GetKey(), id)
		}
		if out.GetTransient() {
			return orcerr.New(orcerr.InvalidAsset, "invalid task %s, invalid task output %q: a PERFORMANCE output cannot be transient", t.GetKey(), id)
		}
	}
	return nil
}
