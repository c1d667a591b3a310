package parity_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
)

// TestFacadeOnFabric goes through Org1's and Org2's facades (gRPC, mspid
// header): a registration and its event, the event stream resumed after it,
// and the refusal of a caller of another organization.
func TestFacadeOnFabric(t *testing.T) {
	env := networkEnv(t)
	addr1, addr2 := env["FABRIC_ORG1_FACADE"], env["FABRIC_ORG2_FACADE"]
	if c, err := net.DialTimeout("tcp", addr1, time.Second); err != nil {
		t.Skipf("no facade on %s (network started with FABRIC_FACADES=0?)", addr1)
	} else {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	as := func(msp string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "mspid", msp, "channel", env["FABRIC_CHANNEL"])
	}
	dial := func(addr string) *grpc.ClientConn {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	conn1, conn2 := dial(addr1), dial(addr2)

	// Org2's facade refuses to act for Org1.
	_, err := protos.NewOrganizationServiceClient(conn2).GetAllOrganizations(as(org1), &protos.GetAllOrganizationsParam{})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("Org1 call on Org2's facade: %v, want PermissionDenied", err)
	}

	if _, err := protos.NewOrganizationServiceClient(conn1).RegisterOrganization(as(org1), &protos.RegisterOrganizationParam{Address: "https://org1.example.org"}); err != nil && status.Code(err) != codes.AlreadyExists {
		t.Fatal(err)
	}
	managers := protos.NewDataManagerServiceClient(conn1)
	events := protos.NewEventServiceClient(conn1)
	register := func() *protos.Event {
		k := uuid.NewString()
		if _, err := managers.RegisterDataManager(as(org1), chaincodetest.NewDataManager(k, &protos.NewPermissions{Public: true})); err != nil {
			t.Fatal(err)
		}
		page, err := events.QueryEvents(as(org1), &protos.QueryEventsParam{Filter: &protos.EventQueryFilter{AssetKey: k}})
		if err != nil || len(page.GetEvents()) != 1 {
			t.Fatalf("QueryEvents(%s) = %v, %v; want one event", k, page, err)
		}
		return page.GetEvents()[0]
	}
	first := register()

	// From the start, the stream reaches the registration's event.
	stream, err := events.SubscribeToEvents(as(org1), &protos.SubscribeToEventsParam{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream ended before the event %s: %v", first.GetId(), err)
		}
		if ev.GetId() == first.GetId() {
			if !proto.Equal(ev, first) {
				t.Errorf("streamed %v\nstored   %v", ev, first)
			}
			break
		}
	}

	// Resumed after it, the stream waits for, then carries, the next one.
	sctx, stop := context.WithCancel(as(org1))
	defer stop()
	resumed, err := events.SubscribeToEvents(sctx, &protos.SubscribeToEventsParam{StartEventId: first.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	second := register()
	ev, err := resumed.Recv()
	if err != nil || !proto.Equal(ev, second) {
		t.Errorf("resumed stream gave %v, %v; want %v", ev, err, second)
	}
}
