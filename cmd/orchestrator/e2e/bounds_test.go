package e2e

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/protos"
)

// dataEntries lists the names in the embedded store's folder, without the
// lock file and write probes.
func dataEntries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".pebble") {
			names = append(names, de.Name())
		}
	}
	slices.Sort(names)
	return names
}

// callChannel makes a read, a write and a subscription on channel and
// returns their codes.
func callChannel(t *testing.T, addr, mspID, channel string) []codes.Code {
	t.Helper()
	o := newOrg(t, addr, mspID, channel)
	_, err1 := o.organizations().GetAllOrganizations(o.ctx(), &protos.GetAllOrganizationsParam{})
	_, err2 := o.organizations().RegisterOrganization(o.ctx(), &protos.RegisterOrganizationParam{Address: "x:1"})
	ctx, cancel := context.WithCancel(o.ctx())
	defer cancel()
	var err3 error
	s, err := o.events().SubscribeToEvents(ctx, &protos.SubscribeToEventsParam{})
	if err == nil {
		_, err = s.Recv() // a refused stream fails here; an accepted one yields the registration
	}
	err3 = err
	return []codes.Code{status.Code(err1), status.Code(err2), status.Code(err3)}
}

// TestConfiguredChannelsOnly: with a channel configuration, reads, writes
// and subscriptions on another channel are refused and open no store.
func TestConfiguredChannelsOnly(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	config := writeFile(t, dir, "config.yaml", []byte("channels:\n  mychannel: [Org1MSP]\n"))
	p := startProc(t, "--data", data, "--config", config)
	before := dataEntries(t, data)
	if !slices.Equal(before, []string{"mychannel.pebble"}) {
		t.Fatalf("data folder after start-up: %v", before)
	}
	for _, ch := range []string{"other", "c1", "mychannel2"} {
		for i, code := range callChannel(t, p.addr, "Org1MSP", ch) {
			if code != codes.PermissionDenied {
				t.Errorf("channel %s, call %d: %v, want PermissionDenied", ch, i, code)
			}
		}
	}
	if got := callChannel(t, p.addr, "Org1MSP", "mychannel"); !slices.Equal(got, []codes.Code{codes.OK, codes.OK, codes.OK}) {
		t.Errorf("configured channel: %v", got)
	}
	if after := dataEntries(t, data); !slices.Equal(after, before) {
		t.Fatalf("refused calls created stores: %v", after)
	}
	p.stop()
}

// TestMaxChannels: without a configuration, the first --max-channels
// channels are served, the next ones refused with ResourceExhausted and
// no store, and the start-up log calls it the dev default.
func TestMaxChannels(t *testing.T) {
	data := t.TempDir()
	p := startProc(t, "--data", data, "--max-channels", "2")
	if !strings.Contains(p.Log(), "dev default") || !strings.Contains(p.Log(), "at most 2 of them (--max-channels)") {
		t.Errorf("start-up log does not state the dev default:\n%s", p.Log())
	}
	for _, tt := range []struct {
		channel string
		code    codes.Code
	}{{"c1", codes.OK}, {"c2", codes.OK}, {"c3", codes.ResourceExhausted}, {"c4", codes.ResourceExhausted}, {"c1", codes.OK}, {"Bad_Name", codes.InvalidArgument}} {
		o := newOrg(t, p.addr, "Org1MSP", tt.channel)
		_, err := o.organizations().GetAllOrganizations(o.ctx(), &protos.GetAllOrganizationsParam{})
		if status.Code(err) != tt.code {
			t.Fatalf("channel %s: %v, want %v", tt.channel, err, tt.code)
		}
	}
	if got := dataEntries(t, data); !slices.Equal(got, []string{"c1.pebble", "c2.pebble"}) {
		t.Fatalf("data folder: %v, want the two admitted channels", got)
	}
	p.stop()
}
