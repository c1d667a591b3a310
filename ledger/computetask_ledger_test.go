package ledger_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

const (
	todo  = protos.ComputeTaskStatus_STATUS_WAITING_FOR_EXECUTOR_SLOT
	doing = protos.ComputeTaskStatus_STATUS_EXECUTING
	done  = protos.ComputeTaskStatus_STATUS_DONE
	idle  = protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS
)

// task is a compute task of plan p run by worker w with function f,
// created at second sec.
func task(key, p, w, f string, st protos.ComputeTaskStatus, sec int64) *protos.ComputeTask {
	return &protos.ComputeTask{Key: key, ComputePlanKey: p, Worker: w, FunctionKey: f, Owner: "Org1MSP", Status: st, CreationDate: ts(sec)}
}

// taskKeys lists the keys of tasks.
func taskKeys(tasks []*protos.ComputeTask) []string {
	out := make([]string, len(tasks))
	for i, t := range tasks {
		out[i] = t.GetKey()
	}
	return out
}

// seedTasks stores, in one transaction, tasks t1..t6 over two plans, two
// workers and two functions (t5 and t6 children of t1, t6 also of t2).
func seedTasks(h *harness) []*protos.ComputeTask {
	tasks := []*protos.ComputeTask{
		task("t1", "p1", "w1", "f1", todo, 10),
		task("t2", "p1", "w2", "f1", todo, 11),
		task("t3", "p1", "w1", "f2", doing, 12),
		task("t4", "p2", "w1", "f1", done, 13),
		task("t5", "p1", "w2", "f2", idle, 14),
		task("t6", "p1", "w1", "f1", idle, 14),
	}
	parents := map[string][]string{"t5": {"t1"}, "t6": {"t1", "t2"}}
	h.submit(func(l *ledger.Tx) error {
		for _, t := range tasks {
			if err := ledger.AddComputeTask(l, t, parents[t.GetKey()]); err != nil {
				return err
			}
		}
		return nil
	})
	return tasks
}

func TestComputeTaskRecords(t *testing.T) {
	h := newHarness(t)
	tasks := seedTasks(h)
	h.evaluate(func(l *ledger.Tx) error {
		got, err := ledger.GetComputeTask(l, "t3")
		if err != nil || !proto.Equal(got, tasks[2]) {
			t.Errorf("GetComputeTask(t3) = %v, %v", got, err)
		}
		if _, err := ledger.GetComputeTask(l, "nope"); orcerr.KindOf(err) != orcerr.NotFound || err.Error() != `OE0002: computetask with key "nope" not found` {
			t.Errorf("GetComputeTask(nope) = %v", err)
		}
		if _, err := ledger.GetComputeTask(l, "a\x00b"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("GetComputeTask(bad key) = %v", err)
		}
		many, err := ledger.GetComputeTasks(l, []string{"t1", "nope", "t4"})
		if err != nil || len(many) != 2 || !proto.Equal(many["t1"], tasks[0]) || !proto.Equal(many["t4"], tasks[3]) {
			t.Errorf("GetComputeTasks = %v, %v", many, err)
		}
		if empty, err := ledger.GetComputeTasks(l, nil); err != nil || len(empty) != 0 {
			t.Errorf("GetComputeTasks(nil) = %v, %v", empty, err)
		}
		if _, err := ledger.GetComputeTasks(l, []string{"\x00"}); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("GetComputeTasks(bad key) = %v", err)
		}
		raw, err := ledger.GetRaw(l, ledger.ComputeTaskKind, "t2")
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(tasks[1])
		if err != nil || string(raw) != string(want) {
			t.Errorf("GetRaw(t2) = %x, %v", raw, err)
		}
		sk, err := ledger.ComputeTaskStateKey(l, "t1")
		if err != nil || sk != "\x00t\x00~t1\x00" {
			t.Errorf("ComputeTaskStateKey = %q, %v", sk, err)
		}
		for parent, want := range map[string][]string{"t1": {"t5", "t6"}, "t2": {"t6"}, "t6": nil} {
			got, err := ledger.ComputeTaskChildren(l, parent)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("ComputeTaskChildren(%s) = %v, %v; want %v", parent, got, err, want)
			}
		}
		return nil
	})
	// A corrupt record is an internal error, not a missing task.
	h.submit(func(l *ledger.Tx) error {
		return l.PutState("\x00t\x00~bad\x00", []byte{0xff, 0xff})
	})
	h.evaluate(func(l *ledger.Tx) error {
		if _, err := ledger.GetComputeTask(l, "bad"); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("GetComputeTask(corrupt) = %v", err)
		}
		if _, err := ledger.GetComputeTasks(l, []string{"t1", "bad"}); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("GetComputeTasks(corrupt) = %v", err)
		}
		return nil
	})
	// Invalid attributes are refused before anything is written.
	err := h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		return ledger.AddComputeTask(l, task("t\x00", "p1", "w1", "f1", todo, 1), nil)
	})
	if orcerr.KindOf(err) != orcerr.InvalidAsset {
		t.Errorf("AddComputeTask(bad key) = %v", err)
	}
	err = h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		return ledger.AddComputeTask(l, task("t9", "p\x00", "w1", "f1", todo, 1), nil)
	})
	if orcerr.KindOf(err) != orcerr.InvalidAsset {
		t.Errorf("AddComputeTask(bad plan) = %v", err)
	}
	err = h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		return ledger.AddComputeTask(l, task("t9", "p1", "w1", "f1", todo, 1), []string{"\x00"})
	})
	if orcerr.KindOf(err) != orcerr.InvalidAsset {
		t.Errorf("AddComputeTask(bad parent) = %v", err)
	}
}

func TestComputeTaskStatusIndexes(t *testing.T) {
	h := newHarness(t)
	seedTasks(h)
	type want struct {
		plan, fn string
		st       protos.ComputeTaskStatus
		keys     []string
	}
	check := func(stage string, cases []want, counts map[protos.ComputeTaskStatus]int) {
		t.Helper()
		h.evaluate(func(l *ledger.Tx) error {
			for _, c := range cases {
				if c.plan != "" {
					got, err := ledger.PlanTaskKeysWithStatus(l, c.plan, c.st)
					if err != nil || !slices.Equal(got, c.keys) {
						t.Errorf("%s: PlanTaskKeysWithStatus(%s, %s) = %v, %v; want %v", stage, c.plan, c.st, got, err, c.keys)
					}
					has, err := ledger.PlanHasTaskWithStatus(l, c.plan, c.st)
					if err != nil || has != (len(c.keys) > 0) {
						t.Errorf("%s: PlanHasTaskWithStatus(%s, %s) = %v, %v", stage, c.plan, c.st, has, err)
					}
				}
				if c.fn != "" {
					got, err := ledger.FunctionTaskKeysWithStatus(l, c.fn, c.st)
					if err != nil || !slices.Equal(got, c.keys) {
						t.Errorf("%s: FunctionTaskKeysWithStatus(%s, %s) = %v, %v; want %v", stage, c.fn, c.st, got, err, c.keys)
					}
				}
			}
			got, err := ledger.CountPlanTasks(l, "p1")
			if err != nil || len(got) != len(counts) {
				t.Errorf("%s: CountPlanTasks(p1) = %v, %v; want %v", stage, got, err, counts)
			}
			for st, n := range counts {
				if got[st] != n {
					t.Errorf("%s: CountPlanTasks(p1)[%s] = %d, want %d", stage, st, got[st], n)
				}
			}
			return nil
		})
	}
	check("seeded", []want{
		{plan: "p1", st: todo, keys: []string{"t1", "t2"}},
		{plan: "p1", st: idle, keys: []string{"t5", "t6"}},
		{plan: "p1", st: done},
		{plan: "p2", st: done, keys: []string{"t4"}},
		{fn: "f1", st: todo, keys: []string{"t1", "t2"}},
		{fn: "f2", st: doing, keys: []string{"t3"}},
	}, map[protos.ComputeTaskStatus]int{todo: 2, idle: 2, doing: 1})

	// t1 starts; t3 is stored again with an unchanged status.
	h.submit(func(l *ledger.Tx) error {
		t1, err := ledger.GetComputeTask(l, "t1")
		if err != nil {
			return err
		}
		t1.Status = doing
		if err := ledger.UpdateComputeTaskStatus(l, t1, todo); err != nil {
			return err
		}
		t3, err := ledger.GetComputeTask(l, "t3")
		if err != nil {
			return err
		}
		t3.Metadata = map[string]string{"k": "v"}
		return ledger.UpdateComputeTaskStatus(l, t3, doing)
	})
	check("t1 executing", []want{
		{plan: "p1", st: todo, keys: []string{"t2"}},
		{plan: "p1", st: doing, keys: []string{"t1", "t3"}},
		{fn: "f1", st: todo, keys: []string{"t2"}},
		{fn: "f1", st: doing, keys: []string{"t1"}},
		{fn: "f2", st: doing, keys: []string{"t3"}},
	}, map[protos.ComputeTaskStatus]int{todo: 1, idle: 2, doing: 2})

	// Status moves also show in the worker index served by QueryComputeTasks.
	h.evaluate(func(l *ledger.Tx) error {
		got, _, err := ledger.QueryComputeTasks(l, &protos.TaskQueryFilter{Worker: "w1", Status: doing}, "", 0)
		if err != nil || !slices.Equal(taskKeys(got), []string{"t1", "t3"}) {
			t.Errorf("QueryComputeTasks(w1, doing) = %v, %v", taskKeys(got), err)
		}
		got, _, err = ledger.QueryComputeTasks(l, &protos.TaskQueryFilter{Worker: "w1", Status: todo}, "", 0)
		if err != nil || len(got) != 0 {
			t.Errorf("QueryComputeTasks(w1, todo) = %v, %v", taskKeys(got), err)
		}
		// Only the status is stored: a task's other fields are fixed at
		// registration.
		t3, err := ledger.GetComputeTask(l, "t3")
		if err != nil || len(t3.GetMetadata()) != 0 || t3.GetStatus() != doing {
			t.Errorf("t3 after update = %v, %v", t3, err)
		}
		return nil
	})

	// Two moves of one task in one transaction leave only the last status.
	h.submit(func(l *ledger.Tx) error {
		t1, err := ledger.GetComputeTask(l, "t1")
		if err != nil {
			return err
		}
		t1.Status = done
		if err := ledger.UpdateComputeTaskStatus(l, t1, doing); err != nil {
			return err
		}
		t5, err := ledger.GetComputeTask(l, "t5")
		if err != nil {
			return err
		}
		t5.Status = todo
		if err := ledger.UpdateComputeTaskStatus(l, t5, idle); err != nil {
			return err
		}
		t5.Status = doing
		return ledger.UpdateComputeTaskStatus(l, t5, todo)
	})
	check("t1 done, t5 executing", []want{
		{plan: "p1", st: todo, keys: []string{"t2"}},
		{plan: "p1", st: doing, keys: []string{"t3", "t5"}},
		{plan: "p1", st: done, keys: []string{"t1"}},
		{plan: "p1", st: idle, keys: []string{"t6"}},
		{fn: "f1", st: done, keys: []string{"t1", "t4"}},
		{fn: "f2", st: doing, keys: []string{"t3", "t5"}},
		{fn: "f2", st: idle},
	}, map[protos.ComputeTaskStatus]int{todo: 1, idle: 1, doing: 2, done: 1})

	err := h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		return ledger.UpdateComputeTaskStatus(l, task("x\x00", "p1", "w1", "f1", todo, 1), idle)
	})
	if orcerr.KindOf(err) != orcerr.InvalidAsset {
		t.Errorf("UpdateComputeTaskStatus(bad key) = %v", err)
	}
	err = h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		return ledger.UpdateComputeTaskStatus(l, task("x", "p\x00", "w1", "f1", todo, 1), idle)
	})
	if orcerr.KindOf(err) != orcerr.InvalidAsset {
		t.Errorf("UpdateComputeTaskStatus(bad plan) = %v", err)
	}
}

func TestQueryComputeTasks(t *testing.T) {
	h := newHarness(t)
	seedTasks(h)
	cases := []struct {
		name string
		f    *protos.TaskQueryFilter
		want []string
	}{
		{"all", nil, []string{"t1", "t2", "t3", "t4", "t5", "t6"}},
		{"plan", &protos.TaskQueryFilter{ComputePlanKey: "p1"}, []string{"t1", "t2", "t3", "t5", "t6"}},
		{"plan and status", &protos.TaskQueryFilter{ComputePlanKey: "p1", Status: idle}, []string{"t5", "t6"}},
		{"plan, status and worker", &protos.TaskQueryFilter{ComputePlanKey: "p1", Status: idle, Worker: "w1"}, []string{"t6"}},
		{"plan and function", &protos.TaskQueryFilter{ComputePlanKey: "p1", FunctionKey: "f2"}, []string{"t3", "t5"}},
		{"worker", &protos.TaskQueryFilter{Worker: "w1"}, []string{"t1", "t3", "t4", "t6"}},
		{"worker and status", &protos.TaskQueryFilter{Worker: "w2", Status: todo}, []string{"t2"}},
		{"function", &protos.TaskQueryFilter{FunctionKey: "f1"}, []string{"t1", "t2", "t4", "t6"}},
		{"function and status", &protos.TaskQueryFilter{FunctionKey: "f1", Status: idle}, []string{"t6"}},
		{"function and worker", &protos.TaskQueryFilter{FunctionKey: "f1", Worker: "w2"}, []string{"t2"}},
		{"status", &protos.TaskQueryFilter{Status: done}, []string{"t4"}},
		{"unknown plan", &protos.TaskQueryFilter{ComputePlanKey: "p9"}, nil},
	}
	for _, c := range cases {
		for _, size := range []uint32{0, 1, 2, 4} {
			t.Run(fmt.Sprintf("%s/%d", c.name, size), func(t *testing.T) {
				var got []string
				token, pages := "", 0
				for {
					var next string
					h.evaluate(func(l *ledger.Tx) error {
						page, n, err := ledger.QueryComputeTasks(l, c.f, token, size)
						if err != nil {
							t.Fatalf("page %d: %v", pages, err)
						}
						if size > 0 && len(page) > int(size) {
							t.Errorf("page %d has %d tasks, size %d", pages, len(page), size)
						}
						if n != "" && len(page) == 0 {
							t.Errorf("page %d is empty but has a next page", pages)
						}
						got = append(got, taskKeys(page)...)
						next = n
						return nil
					})
					pages++
					if next == "" || pages > 10 {
						break
					}
					token = next
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("tasks = %v, want %v", got, c.want)
				}
				wantPages := 1
				if size > 0 && len(c.want) > 0 {
					wantPages = (len(c.want) + int(size) - 1) / int(size)
				}
				if pages != wantPages {
					t.Errorf("%d pages, want %d", pages, wantPages)
				}
			})
		}
	}
	h.evaluate(func(l *ledger.Tx) error {
		for _, tok := range []string{"!!", ledger.EncodeToken("\x00computetask~plan~time\x00p2\x00")} {
			if _, _, err := ledger.QueryComputeTasks(l, &protos.TaskQueryFilter{ComputePlanKey: "p1"}, tok, 2); orcerr.KindOf(err) != orcerr.BadRequest {
				t.Errorf("QueryComputeTasks(token %q) = %v", tok, err)
			}
		}
		if _, _, err := ledger.QueryComputeTasks(l, &protos.TaskQueryFilter{ComputePlanKey: "p\x00"}, "x", 2); err == nil {
			t.Error("QueryComputeTasks(bad plan) succeeded")
		}
		return nil
	})
}

func TestComputeTaskOutputsAndModels(t *testing.T) {
	h := newHarness(t)
	m1 := &protos.Model{Key: "m1", ComputeTaskKey: "t1", Address: &protos.Addressable{StorageAddress: "http://m1", Checksum: "c1"}, CreationDate: ts(1), Owner: "w1"}
	m2 := &protos.Model{Key: "m2", ComputeTaskKey: "t1", CreationDate: ts(1), Owner: "w1"}
	m3 := &protos.Model{Key: "m3", ComputeTaskKey: "t1", CreationDate: ts(1), Owner: "w1"}
	outs := []struct {
		a   *protos.ComputeTaskOutputAsset
		pos int
	}{
		{&protos.ComputeTaskOutputAsset{ComputeTaskKey: "t1", ComputeTaskOutputIdentifier: "model", AssetKind: protos.AssetKind_ASSET_MODEL, AssetKey: "m1"}, 0},
		{&protos.ComputeTaskOutputAsset{ComputeTaskKey: "t1", ComputeTaskOutputIdentifier: "model", AssetKind: protos.AssetKind_ASSET_MODEL, AssetKey: "m2"}, 1},
		{&protos.ComputeTaskOutputAsset{ComputeTaskKey: "t1", ComputeTaskOutputIdentifier: "perf", AssetKind: protos.AssetKind_ASSET_PERFORMANCE, AssetKey: "t1|perf"}, 0},
		{&protos.ComputeTaskOutputAsset{ComputeTaskKey: "t1", ComputeTaskOutputIdentifier: "local", AssetKind: protos.AssetKind_ASSET_MODEL, AssetKey: "m3"}, 0},
		{&protos.ComputeTaskOutputAsset{ComputeTaskKey: "t1", ComputeTaskOutputIdentifier: "ghost", AssetKind: protos.AssetKind_ASSET_MODEL, AssetKey: "m9"}, 0},
		{&protos.ComputeTaskOutputAsset{ComputeTaskKey: "t2", ComputeTaskOutputIdentifier: "model", AssetKind: protos.AssetKind_ASSET_MODEL, AssetKey: "m4"}, 0},
	}
	h.submit(func(l *ledger.Tx) error {
		for _, m := range []*protos.Model{m1, m2, m3} {
			if err := ledger.PutModel(l, m); err != nil {
				return err
			}
		}
		for _, o := range outs {
			if err := ledger.AddComputeTaskOutputAsset(l, o.a, o.pos); err != nil {
				return err
			}
		}
		return nil
	})
	assetKeys := func(as []*protos.ComputeTaskOutputAsset) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.GetAssetKey())
		}
		return out
	}
	h.evaluate(func(l *ledger.Tx) error {
		for _, c := range []struct {
			task, id string
			want     []string
		}{
			{"t1", "model", []string{"m1", "m2"}},
			{"t1", "", []string{"m9", "m3", "m1", "m2", "t1|perf"}}, // by identifier, then position
			{"t1", "nope", nil},
			{"t2", "", []string{"m4"}},
			{"t3", "", nil},
		} {
			got, err := ledger.ComputeTaskOutputAssets(l, c.task, c.id)
			if err != nil || !slices.Equal(assetKeys(got), c.want) {
				t.Errorf("ComputeTaskOutputAssets(%s, %q) = %v, %v; want %v", c.task, c.id, assetKeys(got), err, c.want)
			}
		}
		got, err := ledger.ComputeTaskOutputAssets(l, "t1", "perf")
		if err != nil || len(got) != 1 || !proto.Equal(got[0], outs[2].a) {
			t.Errorf("ComputeTaskOutputAssets(t1, perf) = %v, %v", got, err)
		}
		models, err := ledger.ComputeTaskOutputModels(l, "t1")
		if err != nil || len(models) != 3 || !proto.Equal(models[0], m3) || !proto.Equal(models[1], m1) || !proto.Equal(models[2], m2) {
			t.Errorf("ComputeTaskOutputModels(t1) = %v, %v", models, err)
		}
		if models, err := ledger.ComputeTaskOutputModels(l, "t3"); err != nil || len(models) != 0 {
			t.Errorf("ComputeTaskOutputModels(t3) = %v, %v", models, err)
		}
		m, err := ledger.GetModel(l, "m2")
		if err != nil || !proto.Equal(m, m2) {
			t.Errorf("GetModel(m2) = %v, %v", m, err)
		}
		if _, err := ledger.GetModel(l, "m9"); orcerr.KindOf(err) != orcerr.NotFound || err.Error() != `OE0002: model with key "m9" not found` {
			t.Errorf("GetModel(m9) = %v", err)
		}
		if _, err := ledger.GetModel(l, "m\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("GetModel(bad key) = %v", err)
		}
		ms, err := ledger.GetModels(l, []string{"m3", "m9", "m1"})
		if err != nil || len(ms) != 2 || !proto.Equal(ms["m3"], m3) || !proto.Equal(ms["m1"], m1) {
			t.Errorf("GetModels = %v, %v", ms, err)
		}
		if ms, err := ledger.GetModels(l, nil); err != nil || len(ms) != 0 {
			t.Errorf("GetModels(nil) = %v, %v", ms, err)
		}
		return nil
	})
	// Disabling a model (storing it without address) is seen by later reads.
	h.submit(func(l *ledger.Tx) error {
		m, err := ledger.GetModel(l, "m1")
		if err != nil {
			return err
		}
		m.Address = nil
		return ledger.PutModel(l, m)
	})
	h.evaluate(func(l *ledger.Tx) error {
		if m, err := ledger.GetModel(l, "m1"); err != nil || m.GetAddress() != nil {
			t.Errorf("disabled m1 = %v, %v", m, err)
		}
		return nil
	})
	for name, fn := range map[string]func(l *ledger.Tx) error{
		"PutModel": func(l *ledger.Tx) error { return ledger.PutModel(l, &protos.Model{Key: "\x00"}) },
		"AddComputeTaskOutputAsset": func(l *ledger.Tx) error {
			return ledger.AddComputeTaskOutputAsset(l, &protos.ComputeTaskOutputAsset{ComputeTaskKey: "t\x00"}, 0)
		},
	} {
		if err := h.run(true, "Org1MSP", fn); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("%s(bad key) = %v", name, err)
		}
	}
	h.submit(func(l *ledger.Tx) error {
		if err := l.PutState("\x00model\x00bad\x00", []byte{0xff}); err != nil {
			return err
		}
		return l.PutState("\x00to\x00~t7\x00model\x000-\x00", []byte{0xff})
	})
	h.evaluate(func(l *ledger.Tx) error {
		if _, err := ledger.GetModel(l, "bad"); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("GetModel(corrupt) = %v", err)
		}
		if _, err := ledger.ComputeTaskOutputModels(l, "t7"); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("ComputeTaskOutputModels(corrupt) = %v", err)
		}
		return nil
	})
}

func TestComputePlans(t *testing.T) {
	h := newHarness(t)
	plans := []*protos.ComputePlan{
		{Key: "p1", Owner: "o1", Name: "one", CreationDate: ts(3)},
		{Key: "p2", Owner: "o2", Name: "two", CreationDate: ts(1)},
		{Key: "p3", Owner: "o1", Name: "three", CreationDate: ts(2)},
		{Key: "p4", Owner: "o1", Name: "four", CreationDate: ts(2)},
	}
	h.submit(func(l *ledger.Tx) error {
		for _, p := range plans {
			if err := ledger.PutComputePlan(l, p, true); err != nil {
				return err
			}
		}
		return nil
	})
	// A rename rewrites the record only: no second index entry.
	h.submit(func(l *ledger.Tx) error {
		p, err := ledger.GetComputePlan(l, "p1")
		if err != nil {
			return err
		}
		p.Name = "renamed"
		return ledger.PutComputePlan(l, p, false)
	})
	planKeys := func(ps []*protos.ComputePlan) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.GetKey())
		}
		return out
	}
	for _, c := range []struct {
		owner string
		want  []string
	}{
		{"", []string{"p2", "p3", "p4", "p1"}},
		{"o1", []string{"p3", "p4", "p1"}},
		{"o2", []string{"p2"}},
		{"o9", nil},
	} {
		for _, size := range []uint32{0, 1, 3} {
			var got []string
			token, pages := "", 0
			for pages < 10 {
				var next string
				h.evaluate(func(l *ledger.Tx) error {
					page, n, err := ledger.QueryComputePlans(l, c.owner, token, size)
					if err != nil {
						t.Fatalf("QueryComputePlans(%q, %d): %v", c.owner, size, err)
					}
					if size > 0 && len(page) > int(size) {
						t.Errorf("QueryComputePlans(%q, %d): page of %d", c.owner, size, len(page))
					}
					got = append(got, planKeys(page)...)
					next = n
					return nil
				})
				pages++
				if next == "" {
					break
				}
				token = next
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("QueryComputePlans(%q, %d) = %v, want %v", c.owner, size, got, c.want)
			}
		}
	}
	h.evaluate(func(l *ledger.Tx) error {
		p, err := ledger.GetComputePlan(l, "p1")
		if err != nil || p.GetName() != "renamed" || p.GetOwner() != "o1" {
			t.Errorf("GetComputePlan(p1) = %v, %v", p, err)
		}
		if _, err := ledger.GetComputePlan(l, "p9"); orcerr.KindOf(err) != orcerr.NotFound || err.Error() != `OE0002: computeplan with key "p9" not found` {
			t.Errorf("GetComputePlan(p9) = %v", err)
		}
		if _, err := ledger.GetComputePlan(l, "\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("GetComputePlan(bad key) = %v", err)
		}
		for key, want := range map[string]bool{"p2": true, "p9": false} {
			if ok, err := ledger.ComputePlanExists(l, key); err != nil || ok != want {
				t.Errorf("ComputePlanExists(%s) = %v, %v", key, ok, err)
			}
		}
		if _, err := ledger.ComputePlanExists(l, "\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("ComputePlanExists(bad key) = %v", err)
		}
		if _, _, err := ledger.QueryComputePlans(l, "", "%%%", 1); orcerr.KindOf(err) != orcerr.BadRequest {
			t.Errorf("QueryComputePlans(bad token) = %v", err)
		}
		if _, _, err := ledger.QueryComputePlans(l, "o2", ledger.EncodeToken("\x00computeplan~owner~time\x00o1\x00"), 1); orcerr.KindOf(err) != orcerr.BadRequest {
			t.Errorf("QueryComputePlans(token of another owner) = %v", err)
		}
		return nil
	})
	for name, p := range map[string]*protos.ComputePlan{
		"bad key":   {Key: "\x00", Owner: "o1"},
		"bad owner": {Key: "p5", Owner: "o\x00"},
	} {
		if err := h.run(true, "Org1MSP", func(l *ledger.Tx) error { return ledger.PutComputePlan(l, p, true) }); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("PutComputePlan(%s) = %v", name, err)
		}
	}
	h.submit(func(l *ledger.Tx) error { return l.PutState("\x00computeplan\x00bad\x00", []byte{0xff}) })
	h.evaluate(func(l *ledger.Tx) error {
		if _, err := ledger.GetComputePlan(l, "bad"); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("GetComputePlan(corrupt) = %v", err)
		}
		return nil
	})
}

func TestPerformances(t *testing.T) {
	h := newHarness(t)
	perf := func(task, id string, sec int64, v float32) *protos.Performance {
		return &protos.Performance{ComputeTaskKey: task, ComputeTaskOutputIdentifier: id, PerformanceValue: v, CreationDate: ts(sec)}
	}
	perfs := []*protos.Performance{
		perf("t2", "auc", 1, 0.5),
		perf("t1", "auc", 2, 0.6),
		perf("t1", "loss", 2, 0.1),
		perf("t3", "auc", 3, 0.7),
	}
	h.submit(func(l *ledger.Tx) error {
		for _, p := range perfs {
			if err := ledger.AddPerformance(l, p); err != nil {
				return err
			}
		}
		return nil
	})
	if k := ledger.PerformanceKey(perfs[1]); k != "t1|auc" {
		t.Errorf("PerformanceKey = %q", k)
	}
	names := func(ps []*protos.Performance) []string {
		var out []string
		for _, p := range ps {
			out = append(out, ledger.PerformanceKey(p))
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    *protos.PerformanceQueryFilter
		want []string
	}{
		{"all", nil, []string{"t2|auc", "t1|auc", "t1|loss", "t3|auc"}},
		{"task", &protos.PerformanceQueryFilter{ComputeTaskKey: "t1"}, []string{"t1|auc", "t1|loss"}},
		{"task and output", &protos.PerformanceQueryFilter{ComputeTaskKey: "t1", ComputeTaskOutputIdentifier: "loss"}, []string{"t1|loss"}},
		{"output", &protos.PerformanceQueryFilter{ComputeTaskOutputIdentifier: "auc"}, []string{"t2|auc", "t1|auc", "t3|auc"}},
		{"unknown task", &protos.PerformanceQueryFilter{ComputeTaskKey: "t9"}, nil},
	} {
		for _, size := range []uint32{0, 1, 2} {
			var got []string
			token, pages := "", 0
			for pages < 10 {
				var next string
				h.evaluate(func(l *ledger.Tx) error {
					page, n, err := ledger.QueryPerformances(l, c.f, token, size)
					if err != nil {
						t.Fatalf("%s/%d: %v", c.name, size, err)
					}
					if size > 0 && len(page) > int(size) {
						t.Errorf("%s/%d: page of %d", c.name, size, len(page))
					}
					got = append(got, names(page)...)
					next = n
					return nil
				})
				pages++
				if next == "" {
					break
				}
				token = next
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s/%d: performances %v, want %v", c.name, size, got, c.want)
			}
		}
	}
	h.evaluate(func(l *ledger.Tx) error {
		page, _, err := ledger.QueryPerformances(l, &protos.PerformanceQueryFilter{ComputeTaskKey: "t3"}, "", 0)
		if err != nil || len(page) != 1 || !proto.Equal(page[0], perfs[3]) {
			t.Errorf("QueryPerformances(t3) = %v, %v", page, err)
		}
		for _, c := range []struct {
			task, id string
			want     bool
		}{{"t1", "auc", true}, {"t1", "acc", false}, {"t9", "auc", false}} {
			if ok, err := ledger.PerformanceExists(l, c.task, c.id); err != nil || ok != c.want {
				t.Errorf("PerformanceExists(%s, %s) = %v, %v", c.task, c.id, ok, err)
			}
		}
		if _, err := ledger.PerformanceExists(l, "t\x00", "auc"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("PerformanceExists(bad key) = %v", err)
		}
		if _, _, err := ledger.QueryPerformances(l, nil, "not base64!", 1); orcerr.KindOf(err) != orcerr.BadRequest {
			t.Errorf("QueryPerformances(bad token) = %v", err)
		}
		return nil
	})
	if err := h.run(true, "Org1MSP", func(l *ledger.Tx) error { return ledger.AddPerformance(l, perf("t\x00", "auc", 1, 0)) }); orcerr.KindOf(err) != orcerr.InvalidAsset {
		t.Errorf("AddPerformance(bad key) = %v", err)
	}
	h.submit(func(l *ledger.Tx) error {
		return l.PutState("\x00performance~task~time\x00t8\x00"+fmt.Sprintf("%020d", 1)+"\x00auc\x00", []byte{0xff})
	})
	h.evaluate(func(l *ledger.Tx) error {
		if _, _, err := ledger.QueryPerformances(l, &protos.PerformanceQueryFilter{ComputeTaskKey: "t8"}, "", 0); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("QueryPerformances(corrupt) = %v", err)
		}
		return nil
	})
}

// TestComputeTaskEvents checks that task events, which the state keeps as
// references to the task's record, read back as the task was when each
// was emitted, while the chaincode event carries the whole task.
func TestComputeTaskEvents(t *testing.T) {
	h := newHarness(t)
	base := task("t1", "p1", "w1", "f1", todo, 10)
	base.Metadata = map[string]string{"long": string(make([]byte, 300))}
	emit := func(l *ledger.Tx, kind protos.EventKind, tk *protos.ComputeTask, b []byte) error {
		return l.EmitComputeTask(&protos.Event{AssetKey: tk.GetKey(), AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: kind,
			Asset: &protos.Event_ComputeTask{ComputeTask: tk}}, b)
	}
	h.submit(func(l *ledger.Tx) error {
		b, err := ledger.StoreNewComputeTask(l, base, nil)
		if err != nil {
			return err
		}
		return emit(l, protos.EventKind_EVENT_ASSET_CREATED, base, b)
	})
	// Two status changes in one transaction: each event keeps its own.
	h.submit(func(l *ledger.Tx) error {
		tk, err := ledger.GetComputeTask(l, "t1")
		if err != nil {
			return err
		}
		for _, st := range []protos.ComputeTaskStatus{doing, done} {
			old := tk.GetStatus()
			tk.Status = st
			b, err := ledger.StoreComputeTaskStatus(l, tk, old)
			if err != nil {
				return err
			}
			if err := emit(l, protos.EventKind_EVENT_ASSET_UPDATED, tk, b); err != nil {
				return err
			}
		}
		return nil
	})
	want := func(st protos.ComputeTaskStatus) *protos.ComputeTask {
		w := proto.Clone(base).(*protos.ComputeTask)
		w.Status = st
		return w
	}
	// The published events hold the whole task.
	published, err := eventwire.Decode(h.ev.Payload)
	if err != nil || len(published) != 2 || !proto.Equal(published[0].GetComputeTask(), want(doing)) || !proto.Equal(published[1].GetComputeTask(), want(done)) {
		t.Errorf("published events %v", published)
	}
	h.evaluate(func(l *ledger.Tx) error {
		for _, sort := range []protos.SortOrder{protos.SortOrder_ASCENDING, protos.SortOrder_DESCENDING} {
			for _, filter := range []*protos.EventQueryFilter{nil, {AssetKey: "t1"}} {
				p := &protos.QueryEventsParam{Sort: sort, Filter: filter}
				res, err := l.QueryEvents(p)
				if err != nil {
					return err
				}
				checkEncoded(t, l, p, res)
				sts := []protos.ComputeTaskStatus{todo, doing, done}
				if sort == protos.SortOrder_DESCENDING {
					slices.Reverse(sts)
				}
				if len(res.GetEvents()) != len(sts) {
					t.Fatalf("%v %v: %d events", sort, filter, len(res.GetEvents()))
				}
				for i, ev := range res.GetEvents() {
					if !proto.Equal(ev.GetComputeTask(), want(sts[i])) {
						t.Errorf("%v %v: event %d holds %v", sort, filter, i, ev.GetComputeTask())
					}
				}
			}
		}
		// The stored events are references, much smaller than the task:
		// the log entry of the two status changes is.
		it, err := l.GetStateByRange("e", "e\U0010FFFF")
		if err != nil {
			return err
		}
		defer it.Close()
		full, _ := proto.Marshal(base)
		entries := 0
		for ; it.HasNext(); entries++ {
			kv, err := it.Next()
			if err != nil {
				return err
			}
			if len(kv.GetValue()) >= len(full)/2 {
				t.Errorf("log entry %q is %d bytes, the task %d", kv.GetKey(), len(kv.GetValue()), len(full))
			}
		}
		if entries != 2 {
			t.Errorf("%d log entries, want one per transaction with events (2)", entries)
		}
		raw, err := ledger.GetComputeTaskRaw(l, "t1")
		w, _ := proto.MarshalOptions{Deterministic: true}.Marshal(want(done))
		if err != nil || string(raw) != string(w) {
			t.Errorf("GetComputeTaskRaw(t1) = %x, %v", raw, err)
		}
		if _, err := ledger.GetComputeTaskRaw(l, "none"); orcerr.KindOf(err) != orcerr.NotFound {
			t.Errorf("GetComputeTaskRaw(none) = %v", err)
		}
		return nil
	})
	// Task events emitted whole are stored whole; one whose task holds
	// only a status is read as a reference. The encoded pages agree.
	h.submit(func(l *ledger.Tx) error {
		for _, tk := range []*protos.ComputeTask{want(doing), {}, {Status: protos.ComputeTaskStatus_STATUS_FAILED}} {
			err := l.Emit(&protos.Event{AssetKey: "t1", AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK, EventKind: protos.EventKind_EVENT_ASSET_UPDATED,
				Asset: &protos.Event_ComputeTask{ComputeTask: tk}, Metadata: map[string]string{"m": "v"}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	h.evaluate(func(l *ledger.Tx) error {
		p := &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{Metadata: map[string]string{"m": "v"}}}
		res, err := l.QueryEvents(p)
		if err != nil {
			return err
		}
		checkEncoded(t, l, p, res)
		if got := res.GetEvents(); len(got) != 3 || !proto.Equal(got[0].GetComputeTask(), want(doing)) ||
			!proto.Equal(got[1].GetComputeTask(), want(protos.ComputeTaskStatus_STATUS_UNKNOWN)) || !proto.Equal(got[2].GetComputeTask(), want(protos.ComputeTaskStatus_STATUS_FAILED)) {
			t.Errorf("whole and bare task events: %v", got)
		}
		return nil
	})
	// An event that is not about a task cannot be emitted as one.
	h.run(true, "Org1MSP", func(l *ledger.Tx) error {
		err := l.EmitComputeTask(&protos.Event{AssetKind: protos.AssetKind_ASSET_COMPUTE_TASK}, nil)
		if orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("EmitComputeTask without a task = %v", err)
		}
		return err
	})
}

// readRecorder records the keys read through GetMultipleStates.
type readRecorder struct {
	shim.ChaincodeStubInterface
	read []string
}

func (r *readRecorder) GetMultipleStates(keys ...string) ([][]byte, error) {
	r.read = append(r.read, keys...)
	return r.ChaincodeStubInterface.GetMultipleStates(keys...)
}

// TestGetComputeTasksReadsStatusOfFoundTasks checks that looking up keys
// that hold no task (a registration refusing duplicates) reads no status
// entry: on Fabric every key read is carried and checked at commit.
func TestGetComputeTasksReadsStatusOfFoundTasks(t *testing.T) {
	h := newHarness(t)
	seedTasks(h)
	h.evaluate(func(l *ledger.Tx) error {
		for _, c := range []struct {
			keys      []string
			wantReads int
		}{
			{[]string{"new1", "new2", "new3"}, 3},
			{[]string{"new1", "t1", "t2"}, 5},
		} {
			r := &readRecorder{ChaincodeStubInterface: l}
			got, err := ledger.GetComputeTasks(r, c.keys)
			if err != nil {
				return err
			}
			if len(r.read) != c.wantReads {
				t.Errorf("GetComputeTasks(%v) read %q, want %d keys", c.keys, r.read, c.wantReads)
			}
			for _, k := range c.keys {
				if _, ok := got[k]; ok != strings.HasPrefix(k, "t") {
					t.Errorf("GetComputeTasks(%v): %s found = %v", c.keys, k, ok)
				}
			}
		}
		return nil
	})
}

// TestQueryComputeTaskPageMatchesMessages checks every page of every
// filter against the page built from messages: the tasks decoded with
// GetComputeTasks, filtered and ordered here, marshalled as a
// QueryTasksResponse. The pages must be those very bytes.
func TestQueryComputeTaskPageMatchesMessages(t *testing.T) {
	h := newHarness(t)
	var all []*protos.ComputeTask
	h.submit(func(l *ledger.Tx) error {
		for i := range 24 {
			tk := task(fmt.Sprintf("t%02d", 23-i), []string{"p1", "p2"}[i%2], []string{"w1", "w2", "w3"}[i%3], []string{"f1", "f2"}[i/12], idle, int64(10+i/3))
			tk.Rank = int32(i)
			tk.Metadata = map[string]string{"i": fmt.Sprint(i), "pad": strings.Repeat("x", 10*i)}
			tk.Inputs = []*protos.ComputeTaskInput{{Identifier: "data", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: "s"}}}
			tk.Outputs = map[string]*protos.ComputeTaskOutput{"model": {Permissions: &protos.Permissions{}}}
			tk.LogsPermission = &protos.Permission{AuthorizedIds: []string{"Org1MSP"}}
			if i%4 == 0 {
				tk.Status = todo
			}
			if err := ledger.AddComputeTask(l, tk, nil); err != nil {
				return err
			}
			all = append(all, tk)
		}
		return nil
	})
	// Some tasks move on, one of them twice: their status entries then
	// differ from their records.
	h.submit(func(l *ledger.Tx) error {
		for i, tk := range all {
			if i%4 != 0 {
				continue
			}
			old := tk.GetStatus()
			tk.Status = doing
			if i%8 == 0 {
				tk.Status = done
			}
			if err := ledger.UpdateComputeTaskStatus(l, tk, old); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortStableFunc(all, func(a, b *protos.ComputeTask) int {
		if c := a.GetCreationDate().AsTime().Compare(b.GetCreationDate().AsTime()); c != 0 {
			return c
		}
		return strings.Compare(a.GetKey(), b.GetKey())
	})
	var filters []*protos.TaskQueryFilter
	for _, plan := range []string{"", "p1", "p9"} {
		for _, w := range []string{"", "w2"} {
			for _, fn := range []string{"", "f2"} {
				for _, st := range []protos.ComputeTaskStatus{0, idle, doing, done} {
					filters = append(filters, &protos.TaskQueryFilter{ComputePlanKey: plan, Worker: w, FunctionKey: fn, Status: st})
				}
			}
		}
	}
	filters = append(filters, nil)
	for _, f := range filters {
		h.evaluate(func(l *ledger.Tx) error {
			// The expected tasks, decoded from the ledger and filtered here.
			got, err := ledger.GetComputeTasks(l, taskKeys(all))
			if err != nil {
				return err
			}
			var want []*protos.ComputeTask
			for _, tk := range all {
				d := got[tk.GetKey()]
				if !proto.Equal(d, tk) {
					t.Fatalf("GetComputeTasks(%s) = %v, stored %v", tk.GetKey(), d, tk)
				}
				if (f.GetComputePlanKey() == "" || d.GetComputePlanKey() == f.GetComputePlanKey()) &&
					(f.GetWorker() == "" || d.GetWorker() == f.GetWorker()) &&
					(f.GetFunctionKey() == "" || d.GetFunctionKey() == f.GetFunctionKey()) &&
					(f.GetStatus() == 0 || d.GetStatus() == f.GetStatus()) {
					want = append(want, d)
				}
			}
			for _, size := range []uint32{1, 3, 50} {
				token, rest := "", want
				for page := 0; ; page++ {
					b, err := ledger.QueryComputeTaskPage(l, f, token, size)
					if err != nil {
						t.Fatalf("%v, size %d, page %d: %v", f, size, page, err)
					}
					var res protos.QueryTasksResponse
					if err := proto.Unmarshal(b, &res); err != nil {
						t.Fatalf("%v, size %d, page %d: %v", f, size, page, err)
					}
					n := min(int(size), len(rest))
					w, err := proto.MarshalOptions{Deterministic: true}.Marshal(&protos.QueryTasksResponse{Tasks: rest[:n], NextPageToken: res.GetNextPageToken()})
					if err != nil {
						return err
					}
					if string(b) != string(w) {
						t.Fatalf("%v, size %d, page %d: tasks %v, want %v", f, size, page, taskKeys(res.GetTasks()), taskKeys(rest[:n]))
					}
					rest = rest[n:]
					if (res.GetNextPageToken() == "") != (len(rest) == 0) {
						t.Fatalf("%v, size %d, page %d: next token %q with %d tasks left", f, size, page, res.GetNextPageToken(), len(rest))
					}
					if len(rest) == 0 {
						break
					}
					token = res.GetNextPageToken()
				}
			}
			return nil
		})
	}
}
