package computeplan_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/computetask/tasktest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.computeplan:RegisterPlan"
	get      = "orchestrator.computeplan:GetPlan"
	action   = "orchestrator.computeplan:ApplyPlanAction"
	query    = "orchestrator.computeplan:QueryPlans"
	update   = "orchestrator.computeplan:UpdatePlan"
	running  = "orchestrator.computeplan:IsPlanRunning"
)

func getPlan(t *testing.T, n *tasktest.Net, key string) (*protos.ComputePlan, error) {
	t.Helper()
	p := new(protos.ComputePlan)
	err := n.Evaluate("org2", get, &protos.GetComputePlanParam{Key: key}, p)
	return p, err
}

func TestRegisterPlan(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	n.Org("org1", "org2")
	existing := tasktest.Key(1, 1)
	n.MustSubmit("org1", register, &protos.NewComputePlan{Key: existing, Name: "first"}, nil)
	long := strings.Repeat("x", 101)
	cases := []struct {
		name string
		org  string
		in   *protos.NewComputePlan
		kind orcerr.Kind // "" for success
	}{
		{"ok", "org2", &protos.NewComputePlan{Key: tasktest.Key(1, 2), Name: "p", Tag: "t", Metadata: map[string]string{"a": "b"}}, ""},
		{"conflict", "org1", &protos.NewComputePlan{Key: existing, Name: "again"}, orcerr.Conflict},
		{"bad key", "org1", &protos.NewComputePlan{Key: "nope", Name: "p"}, orcerr.InvalidAsset},
		{"no name", "org1", &protos.NewComputePlan{Key: tasktest.Key(1, 3)}, orcerr.InvalidAsset},
		{"long name", "org1", &protos.NewComputePlan{Key: tasktest.Key(1, 3), Name: long}, orcerr.InvalidAsset},
		{"long tag", "org1", &protos.NewComputePlan{Key: tasktest.Key(1, 3), Name: "p", Tag: long}, orcerr.InvalidAsset},
		{"long metadata", "org1", &protos.NewComputePlan{Key: tasktest.Key(1, 3), Name: "p", Metadata: map[string]string{"k": long}}, orcerr.InvalidAsset},
	}
	n.NewEvents()
	for _, c := range cases {
		res := new(protos.ComputePlan)
		before := n.StateDigest()
		err := n.Submit(c.org, register, c.in, res)
		evs := n.NewEvents()
		if c.kind != "" && n.StateDigest() != before {
			t.Errorf("%s: rejected call changed the state", c.name)
		}
		if orcerr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want kind %q", c.name, err, c.kind)
			continue
		}
		if c.kind != "" {
			if len(evs) != 0 {
				t.Errorf("%s: rejected call emitted %v", c.name, evs)
			}
			if c.in.GetKey() != existing {
				if _, err := getPlan(t, n, c.in.GetKey()); orcerr.KindOf(err) != orcerr.NotFound {
					t.Errorf("%s: rejected plan stored (%v)", c.name, err)
				}
			}
			continue
		}
		if res.GetOwner() != c.org || res.GetName() != c.in.GetName() || res.GetCreationDate() == nil {
			t.Errorf("%s: registered %v", c.name, res)
		}
		stored, err := getPlan(t, n, c.in.GetKey())
		if err != nil || !proto.Equal(stored, res) {
			t.Errorf("%s: stored %v (%v), answered %v", c.name, stored, err, res)
		}
		if len(evs) != 1 || evs[0].GetEventKind() != protos.EventKind_EVENT_ASSET_CREATED || !proto.Equal(evs[0].GetComputePlan(), res) {
			t.Errorf("%s: events %v", c.name, evs)
		}
	}
	if _, err := getPlan(t, n, tasktest.Key(1, 9)); orcerr.KindOf(err) != orcerr.NotFound {
		t.Errorf("unknown plan: %v", err)
	}
}

func TestUpdateAndCancelPlan(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	n.Org("org1", "org2")
	key := tasktest.Key(1, 1)
	n.MustSubmit("org1", register, &protos.NewComputePlan{Key: key, Name: "first"}, nil)
	cases := []struct {
		name string
		org  string
		tx   string
		in   proto.Message
		kind orcerr.Kind
	}{
		{"rename by stranger", "org2", update, &protos.UpdateComputePlanParam{Key: key, Name: "x"}, orcerr.PermissionDenied},
		{"rename unknown", "org1", update, &protos.UpdateComputePlanParam{Key: tasktest.Key(1, 9), Name: "x"}, orcerr.NotFound},
		{"rename blank", "org1", update, &protos.UpdateComputePlanParam{Key: key}, orcerr.InvalidAsset},
		{"rename", "org1", update, &protos.UpdateComputePlanParam{Key: key, Name: "second"}, ""},
		{"unknown action", "org1", action, &protos.ApplyPlanActionParam{Key: key}, orcerr.Unimplemented},
		{"cancel by stranger", "org2", action, &protos.ApplyPlanActionParam{Key: key, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, orcerr.PermissionDenied},
		{"cancel unknown", "org1", action, &protos.ApplyPlanActionParam{Key: tasktest.Key(1, 9), Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, orcerr.NotFound},
		{"cancel", "org1", action, &protos.ApplyPlanActionParam{Key: key, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, ""},
		{"cancel twice", "org1", action, &protos.ApplyPlanActionParam{Key: key, Action: protos.ComputePlanAction_PLAN_ACTION_CANCELED}, orcerr.TerminatedComputePlan},
	}
	for _, c := range cases {
		before, _ := getPlan(t, n, key)
		n.NewEvents()
		digest := n.StateDigest()
		err := n.Submit(c.org, c.tx, c.in, nil)
		if c.kind != "" && n.StateDigest() != digest {
			t.Errorf("%s: rejected call changed the state", c.name)
		}
		if orcerr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.kind)
		}
		after, _ := getPlan(t, n, key)
		evs := n.NewEvents()
		if c.kind != "" && (!proto.Equal(before, after) || len(evs) != 0) {
			t.Errorf("%s: rejected call changed the plan or emitted events", c.name)
		}
		if c.kind == "" && (proto.Equal(before, after) || len(evs) != 1 || !proto.Equal(evs[0].GetComputePlan(), after)) {
			t.Errorf("%s: plan %v, events %v", c.name, after, evs)
		}
	}
	if err := n.SubmitRaw("org1", action, []byte{0xff, 0xff, 0xff}); orcerr.KindOf(err) != orcerr.ByteArray {
		t.Errorf("garbage request: %v", err)
	}
	p, _ := getPlan(t, n, key)
	if p.GetName() != "second" || p.GetCancelationDate() == nil || p.GetFailureDate() != nil {
		t.Errorf("final plan %v", p)
	}
	var r protos.IsPlanRunningResponse
	n.MustEvaluate("org2", running, &protos.IsPlanRunningParam{Key: key}, &r)
	if r.GetIsRunning() {
		t.Error("canceled plan running")
	}
	if err := n.Evaluate("org2", running, &protos.IsPlanRunningParam{Key: tasktest.Key(1, 9)}, &r); orcerr.KindOf(err) != orcerr.NotFound {
		t.Errorf("running unknown: %v", err)
	}
}

func TestQueryPlans(t *testing.T) {
	n := tasktest.New(t, solotest.Start)
	n.Org("org1", "org2")
	for i := range 7 {
		org := []string{"org1", "org2"}[i%2]
		n.MustSubmit(org, register, &protos.NewComputePlan{Key: tasktest.Key(1, 20-i), Name: "p"}, nil)
	}
	walk := func(owner string, size uint32) (keys []string, pages int) {
		token := ""
		for {
			var res protos.QueryPlansResponse
			n.MustEvaluate("org1", query, &protos.QueryPlansParam{PageToken: token, PageSize: size, Filter: &protos.PlanQueryFilter{Owner: owner}}, &res)
			pages++
			for _, p := range res.GetPlans() {
				keys = append(keys, p.GetKey())
				if owner != "" && p.GetOwner() != owner {
					t.Errorf("plan of %s listed for %s", p.GetOwner(), owner)
				}
			}
			if token = res.GetNextPageToken(); token == "" {
				return keys, pages
			}
		}
	}
	cases := []struct {
		owner        string
		size         uint32
		count, pages int
	}{
		{"", 0, 7, 1}, {"", 3, 7, 3}, {"", 7, 7, 1}, {"org1", 2, 4, 2}, {"org2", 1, 3, 3}, {"org9", 5, 0, 1},
	}
	for _, c := range cases {
		keys, pages := walk(c.owner, c.size)
		if len(keys) != c.count || pages != c.pages {
			t.Errorf("owner %q size %d: %d plans in %d pages, want %d in %d", c.owner, c.size, len(keys), pages, c.count, c.pages)
		}
	}
	// Creation order: registration order, whatever the keys.
	keys, _ := walk("", 100)
	if keys[0] != tasktest.Key(1, 20) || keys[6] != tasktest.Key(1, 14) {
		t.Errorf("order %v", keys)
	}
	if err := n.Evaluate("org1", query, &protos.QueryPlansParam{PageToken: "garbage"}, nil); orcerr.KindOf(err) != orcerr.BadRequest {
		t.Errorf("bad token: %v", err)
	}
}
