package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/cmd/orchestrator/internal/loadtest"
)

// smallBench is a workload of a few seconds on solo.
var smallBench = []string{
	"--functions", "2", "--samples", "8", "--sample-batch", "4", "--plans", "3", "--tasks-per-plan", "4",
	"--task-batch", "2", "--samples-per-task", "2", "--get-tasks", "20", "--concurrency", "3",
}

// requestsByCode sums a facade's requests_total by gRPC code.
func requestsByCode(t *testing.T, s *selfServers, addr string) map[string]float64 {
	t.Helper()
	fams, err := s.metrics[addr].Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "orchestrator_grpc_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// With one facade per organization, each refusing the others (as on
// Fabric), the whole workload passes only when every call goes to the
// facade of its mspid; all of them to one facade is refused.
func TestBenchSelfFacades(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: runs the workload twice")
	}
	var logs bytes.Buffer
	s, err := serveSelf(context.Background(), &logs, selfOptions{noSync: true, facades: []string{"Org1MSP", "Org2MSP", "Org1MSP"}, channel: "mychannel"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	if len(s.orgAddrs) != 2 || s.orgAddrs["Org1MSP"] == s.orgAddrs["Org2MSP"] || s.addr != "" {
		t.Fatalf("facades %v, shared server %q", s.orgAddrs, s.addr)
	}

	cfg := loadtest.DefaultConfig()
	fs := newFlagSet("bench", "", &logs)
	cfg.RegisterFlags(fs)
	// Without the probes: some expect PermissionDenied, which a facade
	// would also answer to a call sent to it by mistake.
	if err := parseFlags(fs, append([]string{"--orgs", "Org1MSP,Org2MSP", "--seed", "1", "--probes=false",
		"--org-addr", "Org1MSP=" + s.orgAddrs["Org1MSP"] + ",Org2MSP=" + s.orgAddrs["Org2MSP"]}, smallBench...), &logs); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := loadtest.Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("routed run: %v\n%s", err, out.String())
	}
	for org, addr := range s.orgAddrs {
		codes := requestsByCode(t, s, addr)
		if codes["OK"] < 10 || codes["PermissionDenied"] != 0 {
			t.Errorf("%s's facade answered %v", org, codes)
		}
	}
	if rep.Targets["Org1MSP"] != s.orgAddrs["Org1MSP"] || rep.Targets["Org2MSP"] != s.orgAddrs["Org2MSP"] {
		t.Errorf("report targets %v, want %v", rep.Targets, s.orgAddrs)
	}

	// Everything to Org1MSP's facade: Org2MSP's calls are refused.
	cfg.OrgAddrs, cfg.Addr, cfg.Seed, cfg.MaxErrors = nil, s.orgAddrs["Org1MSP"], 2, 3
	out.Reset()
	if _, err := loadtest.Run(context.Background(), cfg, &out); err == nil || !strings.Contains(out.String(), "OE0102") {
		t.Fatalf("unrouted run against a facade per organization: %v; want PermissionDenied\n%s", err, out.String())
	}
}

// The bench command, end to end: --self --self-facades routes by itself
// and reports where the calls went in the JSON line.
func TestRunBenchSelfFacades(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: runs the workload")
	}
	var out, errOut bytes.Buffer
	args := append([]string{"--self", "--self-facades", "--self-unsafe-no-sync", "--phases", "tasks,subscribe-events"}, smallBench...)
	if err := runBench(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep loadtest.Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line: %v\n%s", err, out.String())
	}
	var names []string
	for _, p := range rep.Phases {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "organizations functions data plans tasks query-events subscribe-events" {
		t.Errorf("phases %s", got)
	}
	if a1, a2 := rep.Targets["MyOrg1MSP"], rep.Targets["MyOrg2MSP"]; a1 == "" || a2 == "" || a1 == a2 {
		t.Errorf("targets %v, want a facade per organization", rep.Targets)
	}
	if !strings.Contains(errOut.String(), "solo facades MyOrg1MSP on ") {
		t.Errorf("stderr does not show the facades:\n%s", errOut.String())
	}
}

func TestRunBenchUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--self-facades"}, "go with --self"},
		{[]string{"--self", "--org-addr", "MyOrg1MSP=127.0.0.1:9001"}, "not with --self"},
		{[]string{"--org-addr", "MyOrg1MSP:9001"}, "want MSPID=HOST:PORT"},
		{[]string{"--org-addr", "Org9MSP=127.0.0.1:9001"}, `"Org9MSP" is not one of --orgs`},
		{[]string{"--phases", "everything"}, `unknown phase "everything"`},
	} {
		var out, errOut bytes.Buffer
		err := runBench(context.Background(), tt.args, &out, &errOut)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want a usage error with %q", tt.args, err, tt.want)
		}
	}
	t.Setenv("ORCHESTRATOR_ORG_ADDR", "MyOrg1MSP=127.0.0.1:9001,MyOrg2MSP")
	err := runBench(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "ORCHESTRATOR_ORG_ADDR: invalid value for --org-addr") {
		t.Errorf("bad ORCHESTRATOR_ORG_ADDR: %v", err)
	}
}
