package parity_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
)

// network is what a test knows of the running network's description: its
// organizations (MSP ids, in order), its channels and their members.
type network struct {
	env      map[string]string
	orgs     []string
	channels []string
}

// readNetwork reads the network's description from its settings file.
func readNetwork(t *testing.T) network {
	t.Helper()
	env := networkEnv(t)
	n := network{env: env, orgs: strings.Fields(env["FABRIC_ORGS"]), channels: strings.Fields(env["FABRIC_CHANNELS"])}
	if len(n.orgs) < 2 || len(n.channels) < 1 {
		t.Fatalf("settings file without organizations or channels: %v", env)
	}
	return n
}

// members returns the MSP ids of the member organizations of channel.
func (n network) members(channel string) []string {
	key := strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(channel))
	return strings.Fields(n.env["FABRIC_CHANNEL_MEMBERS_"+key])
}

// facade returns a connection to organization i's facade (0-based).
func (n network) facade(t *testing.T, i int) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(n.env[fmt.Sprintf("FABRIC_ORG%d_FACADE", i+1)], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// callAs is ctx with the headers of a call by msp on channel.
func callAs(ctx context.Context, msp, channel string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "mspid", msp, "channel", channel)
}

// refusedNaming fails t unless err is PermissionDenied or NotFound with a
// message naming channel.
func refusedNaming(t *testing.T, what string, err error, channel string) {
	t.Helper()
	st := status.Convert(err)
	if (st.Code() != codes.PermissionDenied && st.Code() != codes.NotFound) || !strings.Contains(st.Message(), channel) {
		t.Errorf("%s: %v %q, want PermissionDenied or NotFound naming %q", what, st.Code(), st.Message(), channel)
	}
}

// TestNetworkChannels runs on any network description: every
// organization's facade serves the channels the organization is a member
// of and refuses, naming it, every other channel and one the network does
// not have; a peer asked for a channel it has not joined gets the same
// refusal from the gateway (not Internal); and on each channel a small
// workflow works across its members: each registers its organization, one
// registers a data manager that the others read, and that data manager is
// on that channel only.
func TestNetworkChannels(t *testing.T) {
	n := readNetwork(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const missing = "nosuchchannel"
	conns := make([]*grpc.ClientConn, len(n.orgs))
	for i := range n.orgs {
		conns[i] = n.facade(t, i)
	}

	for i, msp := range n.orgs {
		orgs := protos.NewOrganizationServiceClient(conns[i])
		for _, ch := range append(slices.Clone(n.channels), missing) {
			_, err := orgs.GetAllOrganizations(callAs(ctx, msp, ch), &protos.GetAllOrganizationsParam{})
			what := fmt.Sprintf("%s on %s through its facade", msp, ch)
			if slices.Contains(n.members(ch), msp) {
				if err != nil {
					t.Errorf("%s: %v", what, err)
				}
				continue
			}
			refusedNaming(t, what, err, ch)
		}
	}

	// The peers' own answer: a gateway that believes it serves every
	// channel asks the peer, which has not joined some of them.
	for i, msp := range n.orgs {
		flags := n.env[fmt.Sprintf("FABRIC_ORG%d_GATEWAY_FLAGS", i+1)]
		for _, ch := range append(slices.Clone(n.channels), missing) {
			flags += " --channel " + ch
		}
		gw := openGateway(ctx, t, flags)
		arg, _ := proto.Marshal(&protos.GetAllOrganizationsParam{})
		for _, ch := range append(slices.Clone(n.channels), missing) {
			if slices.Contains(n.members(ch), msp) {
				continue
			}
			_, err := gw.Evaluate(facade.WithCaller(ctx, facade.Caller{MSPID: msp, Channel: ch}), "orchestrator.organization:GetAllOrganizations", arg)
			t.Logf("%s on %s through its peer: %v", msp, ch, err)
			refusedNaming(t, fmt.Sprintf("%s on %s through its peer", msp, ch), facade.Status(err).Err(), ch)
			reg, _ := proto.Marshal(&protos.RegisterOrganizationParam{Address: "https://x.example.org"})
			_, err = gw.Submit(facade.WithCaller(ctx, facade.Caller{MSPID: msp, Channel: ch}), "orchestrator.organization:RegisterOrganization", reg)
			refusedNaming(t, fmt.Sprintf("%s submitting on %s through its peer", msp, ch), facade.Status(err).Err(), ch)
			for _, err := range gw.Subscribe(facade.WithCaller(ctx, facade.Caller{MSPID: msp}), ch, "") {
				refusedNaming(t, fmt.Sprintf("%s subscribing to %s through its peer", msp, ch), facade.Status(err).Err(), ch)
				break
			}
		}
	}

	// A small workflow on each channel.
	keys := map[string]string{}
	for _, ch := range n.channels {
		members := n.members(ch)
		for _, msp := range members {
			i := slices.Index(n.orgs, msp)
			_, err := protos.NewOrganizationServiceClient(conns[i]).RegisterOrganization(callAs(ctx, msp, ch),
				&protos.RegisterOrganizationParam{Address: "https://" + strings.ToLower(msp) + ".example.org"})
			if err != nil && status.Code(err) != codes.AlreadyExists {
				t.Fatalf("%s registers on %s: %v", msp, ch, err)
			}
		}
		owner := slices.Index(n.orgs, members[0])
		k := uuid.NewString()
		keys[ch] = k
		if _, err := protos.NewDataManagerServiceClient(conns[owner]).RegisterDataManager(callAs(ctx, members[0], ch),
			chaincodetest.NewDataManager(k, &protos.NewPermissions{Public: true})); err != nil {
			t.Fatalf("%s registers a data manager on %s: %v", members[0], ch, err)
		}
		for _, msp := range members {
			i := slices.Index(n.orgs, msp)
			dm, err := protos.NewDataManagerServiceClient(conns[i]).GetDataManager(callAs(ctx, msp, ch), &protos.GetDataManagerParam{Key: k})
			if err != nil || dm.GetOwner() != members[0] {
				t.Errorf("%s reads %s's data manager on %s: %v, %v", msp, members[0], ch, dm, err)
			}
		}
	}
	// Each data manager is on its own channel only.
	for _, ch := range n.channels {
		for _, other := range n.channels {
			if other == ch {
				continue
			}
			msp := n.members(other)[0]
			i := slices.Index(n.orgs, msp)
			_, err := protos.NewDataManagerServiceClient(conns[i]).GetDataManager(callAs(ctx, msp, other), &protos.GetDataManagerParam{Key: keys[ch]})
			if status.Code(err) != codes.NotFound {
				t.Errorf("%s's data manager of %s read on %s: %v, want NotFound", msp, ch, other, err)
			}
		}
	}
}
