package soloinvoker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/contracts/chaincode"
	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/memstore"
	"github.com/fedchain/orchestrator/solo/store"
)

const channel = "mychannel"

func newInvoker(t *testing.T) (*Invoker, context.Context) {
	t.Helper()
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := solo.New(cc, InstrumentOpener(memstore.Opener(), reg))
	t.Cleanup(func() { p.Close() })
	inv := New(p, func(ctx context.Context) (string, string, bool) {
		c, ok := facade.CallerFrom(ctx)
		return c.MSPID, c.Channel, ok
	}, reg)
	return inv, facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org1MSP", Channel: channel})
}

func submit(t *testing.T, inv *Invoker, ctx context.Context, tx string, req proto.Message) []byte {
	t.Helper()
	arg, _ := proto.Marshal(req)
	out, err := inv.Submit(ctx, tx, arg)
	if err != nil {
		t.Fatalf("%s: %v", tx, err)
	}
	return out
}

func key(i int) string { return fmt.Sprintf("00000001-0000-4000-8000-%012x", i) }

// fill registers an organization, a data manager and batches of samples:
// a log of 2 + batches entries, the last batches holding size events each.
func fill(t *testing.T, inv *Invoker, ctx context.Context, batches, size int) {
	t.Helper()
	submit(t, inv, ctx, "orchestrator.organization:RegisterOrganization", &protos.RegisterOrganizationParam{Address: "org1.test:443"})
	addr := &protos.Addressable{Checksum: strings.Repeat("ab", 32), StorageAddress: "http://s.test/x"}
	submit(t, inv, ctx, "orchestrator.datamanager:RegisterDataManager", &protos.NewDataManager{Key: key(0), Name: "dm",
		NewPermissions: &protos.NewPermissions{Public: true}, Description: addr, Opener: addr, Type: "csv", LogsPermission: &protos.NewPermissions{Public: true}})
	n := 1
	for range batches {
		var ns []*protos.NewDataSample
		for range size {
			ns = append(ns, &protos.NewDataSample{Key: key(n), DataManagerKeys: []string{key(0)}, Checksum: strings.Repeat("cd", 32)})
			n++
		}
		submit(t, inv, ctx, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: ns})
	}
}

// collect reads n events of a subscription.
func collect(t *testing.T, inv *Invoker, ctx context.Context, after string, n int) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ids []string
	for ev, err := range inv.Subscribe(ctx, channel, after) {
		if err != nil {
			return ids, err
		}
		if ev.GetId() != "" {
			t.Fatalf("event %v is decoded", ev)
		}
		d, err := Decode(ev)
		if err != nil || d.GetId() == "" || d.GetChannel() != channel {
			t.Fatalf("Decode: %v, %v", d, err)
		}
		ids = append(ids, d.GetId())
		if len(ids) == n {
			break
		}
	}
	return ids, nil
}

func TestSubscribeResume(t *testing.T) {
	inv, ctx := newInvoker(t)
	// More entries than one read of the index's catch-up, several events
	// each.
	fill(t, inv, ctx, indexChunk+40, 3)
	total := 2 + 3*(indexChunk+40)
	all, err := collect(t, inv, ctx, "", total)
	if err != nil || len(all) != total {
		t.Fatalf("replay: %d events, %v", len(all), err)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("event %s twice", id)
		}
		seen[id] = true
	}
	for _, i := range []int{0, 1, 2, 3, 4, 100, total - 3*indexChunk - 2, total - 5, total - 2} {
		got, err := collect(t, inv, ctx, all[i], total-i-1)
		if err != nil {
			t.Fatalf("resume after %d: %v", i, err)
		}
		if strings.Join(got, ",") != strings.Join(all[i+1:], ",") {
			t.Fatalf("resume after %d: %d events, first %v", i, len(got), got[:min(2, len(got))])
		}
	}
	// After the last event: nothing until a new commit.
	done := make(chan []string)
	go func() {
		got, _ := collect(t, inv, ctx, all[total-1], 1)
		done <- got
	}()
	submit(t, inv, ctx, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
		{Key: key(99999), DataManagerKeys: []string{key(0)}, Checksum: strings.Repeat("cd", 32)}}})
	if got := <-done; len(got) != 1 || seen[got[0]] {
		t.Fatalf("live event: %v", got)
	}
	if _, err := collect(t, inv, ctx, "no-such-event", 1); orcerr.KindOf(err) != orcerr.NotFound {
		t.Fatalf("unknown start: %v", err)
	}
}

// TestLocateFromIndex: once a channel's event index is built, a start
// event, known or unknown, costs a read of the entries committed since the
// last look-up and of the entry that holds it, whatever the length of the
// log; a scan would read it all.
func TestLocateFromIndex(t *testing.T) {
	cc, err := chaincode.New()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := solo.New(cc, InstrumentOpener(memstore.Opener(), reg))
	t.Cleanup(func() { p.Close() })
	inv := New(p, func(ctx context.Context) (string, string, bool) {
		c, ok := facade.CallerFrom(ctx)
		return c.MSPID, c.Channel, ok
	}, reg)
	ctx := facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org1MSP", Channel: channel})
	fill(t, inv, ctx, 3*indexChunk, 2)
	all, err := collect(t, inv, ctx, "", 2+6*indexChunk)
	if err != nil {
		t.Fatal(err)
	}
	reads := func() uint64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "op" && l.GetValue() == "read_events" {
						return m.GetHistogram().GetSampleCount()
					}
				}
			}
		}
		t.Fatal("no read_events metric")
		return 0
	}
	unknown := "00000000-0000-4000-8000-000000000000"
	if _, err := inv.locate(ctx, channel, unknown); orcerr.KindOf(err) != orcerr.NotFound {
		t.Fatalf("unknown id: %v", err)
	}
	for _, tt := range []struct {
		name  string
		id    string
		reads uint64
	}{
		{"unknown", unknown, 1},
		{"oldest", all[0], 2},
		{"middle", all[len(all)/2], 2},
		{"newest", all[len(all)-1], 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := reads()
			_, err := inv.locate(ctx, channel, tt.id)
			if tt.id == unknown {
				if orcerr.KindOf(err) != orcerr.NotFound {
					t.Fatalf("locate: %v, want NotFound", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if n := reads() - before; n != tt.reads {
				t.Fatalf("%d reads of the log, want %d", n, tt.reads)
			}
		})
	}
	// New commits are indexed on the next look-up.
	submit(t, inv, ctx, "orchestrator.datasample:RegisterDataSamples", &protos.RegisterDataSamplesParam{Samples: []*protos.NewDataSample{
		{Key: key(999999), DataManagerKeys: []string{key(0)}, Checksum: strings.Repeat("cd", 32)}}})
	evs, err := collect(t, inv, ctx, all[len(all)-1], 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("after the newest: %v %v", evs, err)
	}
	if _, err := inv.locate(ctx, channel, evs[0]); err != nil {
		t.Fatalf("a new event: %v", err)
	}
}

func TestMapError(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"chaincode kind", &solo.ChaincodeError{Status: 500, Message: "OE0002: task x not found"}, codes.NotFound, "OE0002: task x not found"},
		{"chaincode wrapped kind", &solo.ChaincodeError{Status: 500, Message: "prefix: OE0101: bad"}, codes.InvalidArgument, "OE0101: bad"},
		{"unknown function", &solo.ChaincodeError{Status: 500, Message: `Function Nope not found in contract orchestrator.info`}, codes.Unimplemented, "OE0010"},
		{"chaincode other", &solo.ChaincodeError{Status: 500, Message: "boom"}, codes.Internal, "internal error"},
		{"conflict", fmt.Errorf("solo: tx after 21 attempts: %w", store.ErrConflict), codes.Aborted, ""},
		{"closed", solo.ErrClosed, codes.Unavailable, ""},
		{"store unavailable", fmt.Errorf("couchstore: get: %w", store.ErrUnavailable), codes.Unavailable, "nothing"},
		{"outcome unknown", fmt.Errorf("couchstore: journal: %w: %w", store.ErrUnavailable, store.ErrOutcomeUnknown), codes.Unavailable, "outcome"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded, ""},
		{"other", errors.New("disk on fire"), codes.Internal, "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := facade.Status(mapError("orchestrator.x:Y", tt.err))
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
				t.Fatalf("status %v %q, want %v containing %q", st.Code(), st.Message(), tt.code, tt.msg)
			}
		})
	}
}

func TestNoCaller(t *testing.T) {
	inv, _ := newInvoker(t)
	_, err := inv.Evaluate(context.Background(), "orchestrator.info:QueryVersion", nil)
	if facade.Status(err).Code() != codes.Internal {
		t.Fatalf("no caller: %v", err)
	}
}

func TestProposalCarriesClientCert(t *testing.T) {
	inv, ctx := newInvoker(t)
	cert := &x509.Certificate{Raw: []byte("not really DER")}
	ctx = peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}}})
	prop, err := inv.proposal(ctx, "orchestrator.info:QueryVersion", []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if prop.Creator.MSPID != "Org1MSP" || prop.Channel != channel || !strings.Contains(string(prop.Creator.CertPEM), "BEGIN CERTIFICATE") {
		t.Fatalf("proposal %+v", prop)
	}
	if string(prop.Args[0]) != "orchestrator.info:QueryVersion" || len(prop.Args) != 2 {
		t.Fatalf("args %q", prop.Args)
	}
	_, ctx = newInvoker(t)
	if prop, _ := inv.proposal(ctx, "x", nil); prop.Creator.CertPEM != nil {
		t.Fatal("a certificate without TLS")
	}
}

// TestLocateRejectsNonIDs: a start event that is not an event id is
// NotFound without reading the log (the peer here is closed: any read
// would fail with Unavailable), and a well-formed unknown id is NotFound
// after the search.
func TestLocateRejectsNonIDs(t *testing.T) {
	inv, ctx := newInvoker(t)
	fill(t, inv, ctx, 3, 2)
	for _, id := range []string{"no-such-event", "00000000-0000-4000-8000-00000000000G", strings.Repeat("a", 1<<16)} {
		if _, err := collect(t, inv, ctx, id, 1); orcerr.KindOf(err) != orcerr.NotFound {
			t.Fatalf("start %.40q: %v, want NotFound", id, err)
		}
	}
	if _, err := collect(t, inv, ctx, "00000000-0000-4000-8000-000000000000", 1); orcerr.KindOf(err) != orcerr.NotFound {
		t.Fatalf("unknown event id: %v, want NotFound", err)
	}
	inv.peer.Close()
	if _, err := inv.locate(ctx, channel, "not-an-id"); orcerr.KindOf(err) != orcerr.NotFound {
		t.Fatalf("closed peer, malformed id: %v, want NotFound without a read", err)
	}
	if _, err := inv.locate(ctx, channel, "00000000-0000-4000-8000-000000000000"); facade.Status(mapError("x", err)).Code() != codes.Unavailable {
		t.Fatalf("closed peer, well-formed id: %v, want Unavailable", err)
	}
}
