package loadtest

import (
	"bytes"
	"context"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// recordingServer is a gRPC listener that answers every call with
// Unimplemented and records the method and mspid header of each.
type recordingServer struct {
	addr string

	mu    sync.Mutex
	calls map[string][]string // mspid -> methods
}

func startRecordingServer(t *testing.T) *recordingServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &recordingServer{addr: l.Addr().String(), calls: map[string][]string{}}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		md, _ := metadata.FromIncomingContext(stream.Context())
		mspid := "(none)"
		if v := md.Get(headerMSPID); len(v) == 1 {
			mspid = v[0]
		}
		rs.mu.Lock()
		rs.calls[mspid] = append(rs.calls[mspid], method)
		rs.mu.Unlock()
		_ = stream.RecvMsg(&emptypb.Empty{}) // any request decodes, as unknown fields
		return status.Error(codes.Unimplemented, "recording server")
	}))
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return rs
}

// seen returns the organizations that called rs, and the methods each called.
func (rs *recordingServer) seen() map[string][]string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := map[string][]string{}
	for org, ms := range rs.calls {
		out[org] = slices.Compact(slices.Sorted(slices.Values(ms)))
	}
	return out
}

// Every call carrying an organization's mspid goes to that organization's
// address, over real listeners; an organization without one uses Addr.
// The listeners refuse everything, so the run goes on with errors
// (max-errors 0) through the phases that do not need earlier results.
func TestCallsGoToTheirOrganizationsAddress(t *testing.T) {
	def, s1, s3 := startRecordingServer(t), startRecordingServer(t), startRecordingServer(t)
	cfg := DefaultConfig()
	cfg.Orgs = []string{"Org1MSP", "Org2MSP", "Org3MSP"} // data owner, bystander, algo owner
	cfg.Addr = def.addr
	cfg.OrgAddrs = map[string]string{"Org1MSP": s1.addr, "Org3MSP": s3.addr}
	cfg.Functions, cfg.Samples, cfg.Plans, cfg.TasksPerPlan, cfg.GetTasks = 2, 4, 2, 3, 12
	cfg.MaxErrors, cfg.CallTimeout, cfg.Deadline = 0, 5*time.Second, time.Minute
	cfg.Seed = 1

	var out bytes.Buffer
	rep, err := Run(context.Background(), cfg, &out)
	if err == nil || rep == nil || rep.Errors == 0 {
		t.Fatalf("Run against listeners that refuse everything: %v; want errors\n%s", err, out.String())
	}
	want := map[string]string{"Org1MSP": s1.addr, "Org2MSP": def.addr, "Org3MSP": s3.addr}
	for org, addr := range want {
		if rep.Targets[org] != addr {
			t.Errorf("report: %s's calls went to %s, want %s", org, rep.Targets[org], addr)
		}
	}
	check := func(name string, rs *recordingServer, org string, methods ...string) {
		t.Helper()
		got := rs.seen()
		if len(got) != 1 || got[org] == nil {
			t.Errorf("%s listener: calls of %v, want only %s's", name, slices.Sorted(maps.Keys(got)), org)
		}
		for _, m := range methods {
			if !slices.Contains(got[org], m) {
				t.Errorf("%s listener: %s did not call %s there (called %v)", name, org, m, got[org])
			}
		}
	}
	check("Org1MSP's", s1, "Org1MSP",
		"/orchestrator.OrganizationService/RegisterOrganization",
		"/orchestrator.OrganizationService/GetAllOrganizations",
		"/orchestrator.DataManagerService/RegisterDataManager",
		"/orchestrator.ComputeTaskService/GetTask",
		"/orchestrator.EventService/QueryEvents")
	check("the default", def, "Org2MSP",
		"/orchestrator.OrganizationService/RegisterOrganization",
		"/orchestrator.ComputeTaskService/GetTask")
	check("Org3MSP's", s3, "Org3MSP",
		"/orchestrator.OrganizationService/RegisterOrganization",
		"/orchestrator.FunctionService/RegisterFunction",
		"/orchestrator.ComputePlanService/RegisterPlan",
		"/orchestrator.ComputeTaskService/GetTask")

	// The event subscriptions, as the data owner, on its own listener.
	cs, err := dialAll(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.close()
	r := newRunner(cfg, cs, &out)
	r.ctx, r.cancel = context.WithCancelCause(context.Background())
	defer r.cancel(nil)
	rec := newRecorder("subscribe-events", nil)
	if r.subscribe(rec, "SubscribeToEvents", "", 1, nil) {
		t.Error("a subscription to a listener that refuses it succeeded")
	}
	check("Org1MSP's", s1, "Org1MSP", "/orchestrator.EventService/SubscribeToEvents")
	for _, rs := range []*recordingServer{def, s3} {
		for _, ms := range rs.seen() {
			if slices.Contains(ms, "/orchestrator.EventService/SubscribeToEvents") {
				t.Errorf("listener %s got a subscription", rs.addr)
			}
		}
	}
}
