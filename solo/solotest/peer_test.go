package solotest_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/fedchain/orchestrator/solo/solotest"
)

func TestPeer(t *testing.T) {
	cc, err := solotest.NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := solotest.Start(t, cc, func() time.Time { return at })
	ctx := context.Background()
	args := func(fn string, a ...string) [][]byte {
		out := [][]byte{[]byte("test:" + fn)}
		for _, s := range a {
			out = append(out, []byte(s))
		}
		return out
	}
	tests := []struct {
		name     string
		submit   bool
		args     [][]byte
		status   int32
		payload  string
		message  string
		event    string // "name=payload" of the committed event
		newState map[string]string
	}{
		{name: "write", submit: true, args: args("Put", "k", "v"), status: 200, newState: map[string]string{"k": "v"}},
		{name: "event", submit: true, args: args("Emit", "ev", "p"), status: 200, event: "ev=p",
			newState: map[string]string{"k": "v", "emitted:ev": "p"}},
		{name: "refused: nothing written, no event", submit: true, args: args("Fail", "no"), status: 500, message: "no",
			newState: map[string]string{"k": "v", "emitted:ev": "p"}},
		{name: "read", args: args("Get", "k"), status: 200, payload: "v", newState: map[string]string{"k": "v", "emitted:ev": "p"}},
		{name: "evaluate commits nothing", args: args("Put", "x", "y"), status: 200, newState: map[string]string{"k": "v", "emitted:ev": "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.submit {
				r, ev, err := p.Submit(ctx, "ch", "Org1MSP", tt.args)
				if err != nil {
					t.Fatal(err)
				}
				if r.GetStatus() != tt.status || r.GetMessage() != tt.message {
					t.Errorf("response %d %q, want %d %q", r.GetStatus(), r.GetMessage(), tt.status, tt.message)
				}
				got := ""
				if ev != nil {
					got = ev.GetEventName() + "=" + string(ev.GetPayload())
					if ev.GetTxId() == "" {
						t.Error("event without transaction id")
					}
				}
				if got != tt.event {
					t.Errorf("event %q, want %q", got, tt.event)
				}
			} else {
				r, err := p.Evaluate(ctx, "ch", "Org1MSP", tt.args)
				if err != nil {
					t.Fatal(err)
				}
				if r.GetStatus() != tt.status || string(r.GetPayload()) != tt.payload {
					t.Errorf("response %d %q, want %d %q", r.GetStatus(), r.GetPayload(), tt.status, tt.payload)
				}
			}
			st, err := p.State(ctx, "ch")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for i, kv := range st {
				if i > 0 && kv.GetKey() <= st[i-1].GetKey() {
					t.Errorf("key %q after %q", kv.GetKey(), st[i-1].GetKey())
				}
				got[kv.GetKey()] = string(kv.GetValue())
			}
			if !maps.Equal(got, tt.newState) {
				t.Errorf("state %v, want %v", got, tt.newState)
			}
		})
	}
	// The clock is the transaction time the chaincode sees.
	r, err := p.Evaluate(ctx, "ch", "Org2MSP", args("Info"))
	if err != nil {
		t.Fatal(err)
	}
	var info solotest.TxInfo
	if err := json.Unmarshal(r.GetPayload(), &info); err != nil {
		t.Fatal(err)
	}
	if info.MSPID != "Org2MSP" || info.Seconds != at.Unix() {
		t.Errorf("transaction info %+v, want Org2MSP at %v", info, at)
	}
}
