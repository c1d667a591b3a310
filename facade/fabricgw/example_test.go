package fabricgw_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/facade/fabricgw"
	"github.com/fedchain/orchestrator/protos"
)

// A Gateway acting for Org1MSP through its peer: one evaluated transaction,
// then the channel's events as they are committed.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	crypto := "/tmp/fedchain-fabric/crypto/peerOrganizations/org1.fedchain.test"
	gw, err := fabricgw.Open(ctx, fabricgw.Config{
		PeerEndpoint: "127.0.0.1:7051",
		PeerTLSCA:    crypto + "/peers/peer0.org1.fedchain.test/tls/ca.crt",
		MSPID:        "Org1MSP",
		Cert:         crypto + "/users/User1@org1.fedchain.test/msp/signcerts/User1@org1.fedchain.test-cert.pem",
		Key:          crypto + "/users/User1@org1.fedchain.test/msp/keystore",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()

	var invoker facade.Invoker = gw
	ctx = facade.WithCaller(ctx, facade.Caller{MSPID: "Org1MSP", Channel: "mychannel"})
	arg, _ := proto.Marshal(&protos.GetAllOrganizationsParam{})
	res, err := invoker.Evaluate(ctx, "orchestrator.organization:GetAllOrganizations", arg)
	if err != nil {
		log.Fatal(err)
	}
	orgs := new(protos.GetAllOrganizationsResponse)
	if err := proto.Unmarshal(res, orgs); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(orgs.GetOrganizations()), "organizations")

	var events facade.EventSource = gw
	for ev, err := range events.Subscribe(ctx, "mychannel", "") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.GetEventKind(), ev.GetAssetKind(), ev.GetAssetKey())
	}
}
