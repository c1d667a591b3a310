package performance_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.performance:RegisterPerformance"
	query    = "orchestrator.performance:QueryPerformances"
)

func queryAll(t *testing.T, n *tasktest.Net, f *protos.PerformanceQueryFilter, size uint32) (perfs []*protos.Performance, pages int) {
	t.Helper()
	token := ""
	for {
		var res protos.QueryPerformancesResponse
		n.MustEvaluate("org2", query, &protos.QueryPerformancesParam{PageToken: token, PageSize: size, Filter: f}, &res)
		pages++
		perfs = append(perfs, res.GetPerformances()...)
		if token = res.GetNextPageToken(); token == "" {
			return perfs, pages
		}
	}
}

func TestRegisterPerformance(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	multi, train, idle := tasktest.Key(0x20, 1), tasktest.Key(0x20, 2), tasktest.Key(0x20, 3)
	n.Register(b.MultiTask(multi, "org2"), b.TrainTask(train, "org1"), b.MultiTask(idle, "org1"))
	for _, a := range [][2]string{{"org2", multi}, {"org1", train}} {
		if err := n.Act(a[0], a[1], protos.ComputeTaskAction_TASK_ACTION_EXECUTING); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		org  string
		in   *protos.NewPerformance
		kind orcerr.Kind
	}{
		{"bad task key", "org2", &protos.NewPerformance{ComputeTaskKey: "x", ComputeTaskOutputIdentifier: "perf"}, orcerr.InvalidAsset},
		{"no identifier", "org2", &protos.NewPerformance{ComputeTaskKey: multi}, orcerr.InvalidAsset},
		{"unknown task", "org2", &protos.NewPerformance{ComputeTaskKey: tasktest.Key(0x20, 9), ComputeTaskOutputIdentifier: "perf"}, orcerr.NotFound},
		{"not the worker", "org1", &protos.NewPerformance{ComputeTaskKey: multi, ComputeTaskOutputIdentifier: "perf"}, orcerr.PermissionDenied},
		{"not executing", "org1", &protos.NewPerformance{ComputeTaskKey: idle, ComputeTaskOutputIdentifier: "perf"}, orcerr.BadRequest},
		{"no such output", "org2", &protos.NewPerformance{ComputeTaskKey: multi, ComputeTaskOutputIdentifier: "nope"}, orcerr.MissingTaskOutput},
		{"model output", "org1", &protos.NewPerformance{ComputeTaskKey: train, ComputeTaskOutputIdentifier: "model"}, orcerr.IncompatibleKind},
		{"ok", "org2", &protos.NewPerformance{ComputeTaskKey: multi, ComputeTaskOutputIdentifier: "perf", PerformanceValue: 0.25}, ""},
		{"twice", "org2", &protos.NewPerformance{ComputeTaskKey: multi, ComputeTaskOutputIdentifier: "perf", PerformanceValue: 0.5}, orcerr.Conflict},
	}
	for _, c := range cases {
		n.NewEvents()
		res := new(protos.Performance)
		before := n.StateDigest()
		err := n.Submit(c.org, register, c.in, res)
		if c.kind != "" && n.StateDigest() != before {
			t.Errorf("%s: rejected call changed the state", c.name)
		}
		evs := n.NewEvents()
		if orcerr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.kind)
		}
		perfs, _ := queryAll(t, n, nil, 0)
		if c.kind != "" {
			if len(evs) != 0 {
				t.Errorf("%s: rejected call emitted events", c.name)
			}
			if c.name != "twice" && len(perfs) != 0 {
				t.Errorf("%s: performances %v", c.name, perfs)
			}
			continue
		}
		if len(perfs) != 1 || !proto.Equal(perfs[0], res) || res.GetPerformanceValue() != 0.25 || res.GetCreationDate() == nil {
			t.Errorf("%s: stored %v, answered %v", c.name, perfs, res)
		}
		if len(evs) != 2 || evs[0].GetAssetKey() != multi+"|perf" || !proto.Equal(evs[0].GetPerformance(), res) ||
			evs[1].GetComputeTaskOutputAsset().GetAssetKind() != protos.AssetKind_ASSET_PERFORMANCE {
			t.Errorf("%s: events %v", c.name, evs)
		}
	}
}

func TestQueryPerformances(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	b := n.NewBasic()
	var keys []string
	for i := range 6 {
		keys = append(keys, tasktest.Key(0x20, 10-i))
	}
	var tasks []*protos.NewComputeTask
	for _, k := range keys {
		tasks = append(tasks, b.MultiTask(k, "org1"))
	}
	n.Register(tasks...)
	for _, k := range keys {
		if err := n.Act("org1", k, protos.ComputeTaskAction_TASK_ACTION_EXECUTING); err != nil {
			t.Fatal(err)
		}
		n.MustSubmit("org1", register, &protos.NewPerformance{ComputeTaskKey: k, ComputeTaskOutputIdentifier: "perf", PerformanceValue: 1}, nil)
	}
	cases := []struct {
		name         string
		f            *protos.PerformanceQueryFilter
		size         uint32
		count, pages int
	}{
		{"all", nil, 0, 6, 1},
		{"pages", nil, 4, 6, 2},
		{"exact pages", nil, 3, 6, 2},
		{"task", &protos.PerformanceQueryFilter{ComputeTaskKey: keys[2]}, 1, 1, 1},
		{"identifier", &protos.PerformanceQueryFilter{ComputeTaskOutputIdentifier: "perf"}, 5, 6, 2},
		{"other identifier", &protos.PerformanceQueryFilter{ComputeTaskOutputIdentifier: "nope"}, 5, 0, 1},
	}
	for _, c := range cases {
		perfs, pages := queryAll(t, n, c.f, c.size)
		if len(perfs) != c.count || pages != c.pages {
			t.Errorf("%s: %d in %d pages, want %d in %d", c.name, len(perfs), pages, c.count, c.pages)
		}
	}
	perfs, _ := queryAll(t, n, nil, 0)
	for i, p := range perfs {
		if p.GetComputeTaskKey() != keys[i] {
			t.Errorf("performance %d is of %s, want %s (creation order)", i, p.GetComputeTaskKey(), keys[i])
		}
	}
}
