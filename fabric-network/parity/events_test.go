package parity_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// TestFabricEventStream checks the gateway's event source on the network:
// the stream carries the events that QueryEvents stores, in order, and a
// subscription resumed after one of them starts right after it, whether
// the Gateway streamed that event before or not. The middle one of the
// three transactions is submitted with plain payloads (its chaincode
// event is plain in the block, the others' compact): the stream reads
// both.
func TestFabricEventStream(t *testing.T) {
	env := networkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gw := openGateway(ctx, t, env["FABRIC_ORG1_GATEWAY_FLAGS"])
	plain := openGateway(ctx, t, env["FABRIC_ORG1_GATEWAY_FLAGS"]+" --plain-payloads")
	ctx = facade.WithCaller(ctx, facade.Caller{MSPID: org1, Channel: env["FABRIC_CHANNEL"]})

	// Org1 may not be registered yet on a fresh network.
	arg, _ := proto.Marshal(&protos.RegisterOrganizationParam{Address: "https://org1.example.org"})
	if _, err := gw.Submit(ctx, "orchestrator.organization:RegisterOrganization", arg); err != nil && orcerr.KindOf(err) != orcerr.Conflict {
		t.Fatal(err)
	}
	var keys []string
	var stored []*protos.Event
	for i := range 3 {
		k := uuid.NewString()
		keys = append(keys, k)
		arg, _ := proto.Marshal(chaincodetest.NewDataManager(k, &protos.NewPermissions{Public: true}))
		via := gw
		if i == 1 {
			via = plain
		}
		if _, err := via.Submit(ctx, "orchestrator.datamanager:RegisterDataManager", arg); err != nil {
			t.Fatal(err)
		}
		q, _ := proto.Marshal(&protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: k}})
		res, err := gw.Evaluate(ctx, "orchestrator.event:QueryEvents", q)
		if err != nil {
			t.Fatal(err)
		}
		var page protos.QueryEventsResponse
		if err := proto.Unmarshal(res, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.GetEvents()) != 1 {
			t.Fatalf("QueryEvents(%s) = %d events, want 1", k, len(page.GetEvents()))
		}
		stored = append(stored, page.GetEvents()[0])
	}

	// From the start: the three events show up, in order, equal to the
	// stored ones.
	found := 0
	for ev, err := range gw.Subscribe(ctx, "", "") {
		if err != nil {
			t.Fatalf("after %d of our events: %v", found, err)
		}
		if ev.GetAssetKey() != keys[found] {
			continue
		}
		if !proto.Equal(ev, stored[found]) {
			t.Fatalf("streamed event %v\nstored event %v", ev, stored[found])
		}
		if found++; found == len(keys) {
			break
		}
	}

	// Resumed after the first one: the next two are the others.
	var next []*protos.Event
	for ev, err := range gw.Subscribe(ctx, "", stored[0].GetId()) {
		if err != nil {
			t.Fatal(err)
		}
		if next = append(next, ev); len(next) == 2 {
			break
		}
	}
	for i, ev := range next {
		if !proto.Equal(ev, stored[i+1]) {
			t.Errorf("resumed event %d = %v, want %v", i, ev, stored[i+1])
		}
	}

	// The same from a Gateway that streamed none of them (a restarted
	// facade): it finds the block of the first one from the end of the chain.
	cold := openGateway(ctx, t, env["FABRIC_ORG1_GATEWAY_FLAGS"])
	next = nil
	for ev, err := range cold.Subscribe(ctx, "", stored[0].GetId()) {
		if err != nil {
			t.Fatal(err)
		}
		if next = append(next, ev); len(next) == 2 {
			break
		}
	}
	for i, ev := range next {
		if !proto.Equal(ev, stored[i+1]) {
			t.Errorf("resumed event %d (cold gateway) = %v, want %v", i, ev, stored[i+1])
		}
	}

	// After the last one: nothing until a new transaction commits.
	wait, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	for ev, err := range gw.Subscribe(wait, "", stored[2].GetId()) {
		if err == nil {
			t.Errorf("event %v after the last one", ev)
		}
		break
	}

	// An unknown event id.
	for _, err := range gw.Subscribe(ctx, "", uuid.NewString()) {
		if orcerr.KindOf(err) != orcerr.NotFound {
			t.Errorf("subscribe after an unknown event: %v, want not found", err)
		}
		break
	}
}
