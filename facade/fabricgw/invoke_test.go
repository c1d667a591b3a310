package fabricgw

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

const tx = "orchestrator.computetask:RegisterTasks"

func endorseError(t *testing.T, msg string, details ...string) error {
	t.Helper()
	return endorseErrorFrom(t, "Org1MSP", msg, details...)
}

// endorseErrorFrom is a gateway endorsement error whose details (one per
// refusing peer) come from peers of organization mspid.
func endorseErrorFrom(t *testing.T, mspid, msg string, details ...string) error {
	t.Helper()
	st := status.New(codes.Aborted, msg)
	for _, d := range details {
		var err error
		st, err = st.WithDetails(&gateway.ErrorDetail{Address: "peer0." + mspid + ":7051", MspId: mspid, Message: d})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st.Err()
}

func commitError(code peer.TxValidationCode) error {
	return &client.CommitError{TransactionID: "tx1", Code: code}
}

func TestSubmitAndEvaluateErrors(t *testing.T) {
	tests := []struct {
		name      string
		evaluate  bool
		retries   int
		results   []result
		wantCalls int
		wantRes   string
		wantCode  codes.Code
		wantMsg   string // the facade's status message, when checked
		wantIs    error
	}{
		{name: "success", results: []result{{payload: []byte("ok")}}, wantCalls: 1, wantRes: "ok"},
		{
			name:      "contract error in endorsement details",
			results:   []result{{err: endorseError(t, "failed to endorse transaction, see attached details for more info", "chaincode response 500, OE0002: compute task abc not found")}},
			wantCalls: 1, wantCode: codes.NotFound, wantMsg: "OE0002: compute task abc not found",
		},
		{
			name:      "contract error in evaluate message",
			evaluate:  true,
			results:   []result{{err: endorseError(t, "evaluate call to endorser returned error: chaincode response 500, OE0101: invalid key: not a uuid")}},
			wantCalls: 1, wantCode: codes.InvalidArgument, wantMsg: "OE0101: invalid key: not a uuid",
		},
		{
			name:      "bad request maps to failed precondition",
			results:   []result{{err: endorseError(t, "failed to endorse", "chaincode response 500, OE0003: invalid permission input values")}},
			wantCalls: 1, wantCode: codes.FailedPrecondition, wantMsg: "OE0003: invalid permission input values",
		},
		{
			name:      "mvcc conflict retried then committed",
			retries:   3,
			results:   []result{{err: commitError(peer.TxValidationCode_MVCC_READ_CONFLICT)}, {err: commitError(peer.TxValidationCode_PHANTOM_READ_CONFLICT)}, {payload: []byte("done")}},
			wantCalls: 3, wantRes: "done",
		},
		{
			name:      "conflicts exhaust the retries",
			retries:   2,
			results:   []result{{err: commitError(peer.TxValidationCode_MVCC_READ_CONFLICT)}},
			wantCalls: 3, wantCode: codes.Aborted, wantIs: facade.ErrConflict,
		},
		{
			name:      "no retries configured",
			retries:   0,
			results:   []result{{err: commitError(peer.TxValidationCode_MVCC_READ_CONFLICT)}},
			wantCalls: 1, wantCode: codes.Aborted, wantIs: facade.ErrConflict,
		},
		{
			name:      "other commit failure not retried",
			retries:   5,
			results:   []result{{err: commitError(peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE)}},
			wantCalls: 1, wantCode: codes.Internal,
		},
		{
			name:      "peer unreachable",
			results:   []result{{err: status.Error(codes.Unavailable, "connection refused")}},
			wantCalls: 1, wantCode: codes.Unavailable, wantIs: facade.ErrUnavailable,
		},
		{
			name:      "gateway deadline",
			results:   []result{{err: status.Error(codes.DeadlineExceeded, "context deadline exceeded")}},
			wantCalls: 1, wantCode: codes.DeadlineExceeded, wantIs: context.DeadlineExceeded,
		},
		{
			name:      "commit status unknown",
			results:   []result{{err: &client.CommitStatusError{TransactionError: &client.TransactionError{TransactionID: "tx9"}}}},
			wantCalls: 1, wantCode: codes.Unavailable, wantMsg: facade.ErrOutcomeUnknown.Error(), wantIs: facade.ErrOutcomeUnknown,
		},
		{
			name:      "peer has not joined the channel",
			results:   []result{{err: status.Error(codes.NotFound, "channel "+DefaultChannel+" not found")}},
			wantCalls: 1, wantCode: codes.PermissionDenied,
		},
		{
			name:      "no peers to satisfy the policy",
			results:   []result{{err: status.Error(codes.FailedPrecondition, "no combination of peers can be derived which satisfy the endorsement policy: no peer combination can satisfy the endorsement policy")}},
			wantCalls: 1, wantCode: codes.Unavailable, wantMsg: facade.ErrUnavailable.Error(), wantIs: facade.ErrUnavailable,
		},
		{
			name: "the other organization's peer went away during endorsement",
			results: []result{{err: endorseErrorFrom(t, "Org2MSP", "failed to collect enough transaction endorsements, see attached details for more info",
				`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:9051: connect: connection refused"`)}},
			wantCalls: 1, wantCode: codes.Unavailable, wantMsg: facade.ErrUnavailable.Error(), wantIs: facade.ErrUnavailable,
		},
		{
			name: "the connection to the other organization's peer closed during endorsement",
			results: []result{{err: endorseErrorFrom(t, "Org2MSP", "failed to collect enough transaction endorsements, see attached details for more info",
				`rpc error: code = Canceled desc = grpc: the client connection is closing`)}},
			wantCalls: 1, wantCode: codes.Unavailable, wantMsg: facade.ErrUnavailable.Error(), wantIs: facade.ErrUnavailable,
		},
		{
			name:      "hand-over to the orderer failed",
			results:   []result{{err: &client.SubmitError{TransactionError: &client.TransactionError{TransactionID: "tx9"}}}},
			wantCalls: 1, wantCode: codes.Unavailable, wantMsg: facade.ErrOutcomeUnknown.Error(), wantIs: facade.ErrOutcomeUnknown,
		},
		{
			name:      "peer has not joined the channel (Fabric 3.1)",
			results:   []result{{err: status.Error(codes.Unavailable, "failed to get config for channel ["+DefaultChannel+"]: could not get last config for channel "+DefaultChannel)}},
			wantCalls: 1, wantCode: codes.PermissionDenied,
		},
		{
			name:      "internal error text does not leak",
			results:   []result{{err: endorseError(t, "failed to endorse", "chaincode response 500, panic: runtime error")}},
			wantCalls: 1, wantCode: codes.Internal, wantMsg: "internal error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &fakeChannel{results: tt.results}
			g := testGateway(t, tt.retries, map[string]*fakeChannel{DefaultChannel: ch})
			ctx := facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org1MSP"})
			call, kind := g.Submit, "submit "
			if tt.evaluate {
				call, kind = g.Evaluate, "evaluate "
			}
			res, err := call(ctx, tx, []byte("req"))
			calls := ch.callLog()
			if len(calls) != tt.wantCalls {
				t.Errorf("calls = %v, want %d", calls, tt.wantCalls)
			}
			for _, c := range calls {
				if c != kind+tx {
					t.Errorf("call %q, want %q", c, kind+tx)
				}
			}
			if tt.wantCode == codes.OK {
				if err != nil || string(res) != tt.wantRes {
					t.Fatalf("got (%q, %v), want (%q, nil)", res, err, tt.wantRes)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %q, want an error", res)
			}
			st := facade.Status(err)
			if st.Code() != tt.wantCode {
				t.Errorf("code = %v (%v), want %v", st.Code(), err, tt.wantCode)
			}
			if tt.wantMsg != "" && st.Message() != tt.wantMsg {
				t.Errorf("message = %q, want %q", st.Message(), tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
		})
	}
}

func TestContractErrorIsTheContractsError(t *testing.T) {
	err := endorseError(t, "failed to endorse", "chaincode response 500, OE0104: cannot change task abc from DONE to DOING")
	ch := &fakeChannel{results: []result{{err: err}}}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: ch})
	_, got := g.Submit(context.Background(), tx, nil)
	var oe *orcerr.Error
	if !errors.As(got, &oe) {
		t.Fatalf("err = %T %v, want an *orcerr.Error", got, got)
	}
	want := "OE0104: cannot change task abc from DONE to DOING"
	if oe.Kind != orcerr.IncompatibleTaskStatus || oe.Error() != want {
		t.Errorf("err = %q (kind %s), want %q", oe.Error(), oe.Kind, want)
	}
}

func TestCallerChecks(t *testing.T) {
	main, other := &fakeChannel{results: []result{{}}}, &fakeChannel{results: []result{{}}}
	g := testGateway(t, 0, map[string]*fakeChannel{DefaultChannel: main, "otherchannel": other})
	tests := []struct {
		name     string
		ctx      context.Context
		wantErr  orcerr.Kind
		wantChan *fakeChannel
	}{
		{name: "no caller uses the default channel", ctx: context.Background(), wantChan: main},
		{name: "own org", ctx: facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org1MSP", Channel: "mychannel"}), wantChan: main},
		{name: "caller's channel", ctx: facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org1MSP", Channel: "otherchannel"}), wantChan: other},
		{name: "another org", ctx: facade.WithCaller(context.Background(), facade.Caller{MSPID: "Org2MSP"}), wantErr: orcerr.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := [2]int{len(main.callLog()), len(other.callLog())}
			for _, call := range []func(context.Context, string, []byte) ([]byte, error){g.Submit, g.Evaluate} {
				res, err := call(tt.ctx, tx, []byte("x"))
				if tt.wantErr != "" {
					if orcerr.KindOf(err) != tt.wantErr || facade.Status(err).Code() != codes.PermissionDenied {
						t.Errorf("err = %v, want kind %s", err, tt.wantErr)
					}
					continue
				}
				if err != nil || string(res) != "echo:x" {
					t.Errorf("got (%q, %v)", res, err)
				}
			}
			after := [2]int{len(main.callLog()), len(other.callLog())}
			switch tt.wantChan {
			case nil:
				if after != before {
					t.Errorf("a refused call reached a channel: %v -> %v", before, after)
				}
			case main:
				if after[0]-before[0] != 2 || after[1] != before[1] {
					t.Errorf("calls %v -> %v, want 2 on the default channel", before, after)
				}
			case other:
				if after[1]-before[1] != 2 || after[0] != before[0] {
					t.Errorf("calls %v -> %v, want 2 on otherchannel", before, after)
				}
			}
		})
	}
}

func TestConflictBackoffGrowsAndIsBounded(t *testing.T) {
	var maxes []int64
	for attempt := range 8 {
		var hi int64
		for range 50 {
			d := conflictBackoff(attempt)
			base := int64(20e6) << min(attempt, 5)
			if int64(d) < base/2 || int64(d) > base {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, base/2, base)
			}
			hi = max(hi, int64(d))
		}
		maxes = append(maxes, hi)
	}
	if !slices.IsSorted(maxes[:6]) {
		t.Errorf("backoff does not grow: %v", maxes)
	}
}

func TestSubmitRetriesWhatOnlyOtherOrgsRefused(t *testing.T) {
	const notFound = "chaincode response 500, OE0002: function f not found"
	collect := "failed to collect enough transaction endorsements, see attached details for more info"
	lagging := endorseErrorFrom(t, "Org2MSP", collect, notFound)
	tests := []struct {
		name      string
		results   []result
		wantCalls int
		wantCode  codes.Code
	}{
		{
			name:      "the other peer catches up",
			results:   []result{{err: lagging}, {err: lagging}, {payload: []byte("ok")}},
			wantCalls: 3, wantCode: codes.OK,
		},
		{
			name:      "the other peer keeps refusing",
			results:   []result{{err: lagging}},
			wantCalls: 3, wantCode: codes.NotFound,
		},
		{
			name:      "our own peer refused",
			results:   []result{{err: endorseError(t, "failed to endorse transaction, see attached details for more info", notFound)}},
			wantCalls: 1, wantCode: codes.NotFound,
		},
		{
			name: "both refused",
			results: []result{{err: func() error {
				st, _ := status.FromError(endorseError(t, collect, notFound))
				st, err := st.WithDetails(&gateway.ErrorDetail{MspId: "Org2MSP", Message: notFound})
				if err != nil {
					t.Fatal(err)
				}
				return st.Err()
			}()}},
			wantCalls: 1, wantCode: codes.NotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &fakeChannel{results: tt.results}
			g := testGateway(t, 2, map[string]*fakeChannel{DefaultChannel: ch})
			_, err := g.Submit(context.Background(), tx, nil)
			if got := facade.Status(err).Code(); got != tt.wantCode {
				t.Errorf("code %v (%v), want %v", got, err, tt.wantCode)
			}
			if n := len(ch.callLog()); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestCallsOnAChannelNotServed(t *testing.T) {
	ch := &fakeChannel{results: []result{{}}, closeEnd: true}
	g := testGatewayConfig(t, Config{MSPID: "MyOrg3MSP", Channels: []string{"alpha"}}, map[string]*fakeChannel{"alpha": ch})
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"submit", func(ctx context.Context) error { _, err := g.Submit(ctx, tx, nil); return err }},
		{"evaluate", func(ctx context.Context) error { _, err := g.Evaluate(ctx, tx, nil); return err }},
		{"subscribe", func(ctx context.Context) error {
			for _, err := range g.Subscribe(ctx, "beta", "") {
				return err
			}
			return nil
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			ctx := facade.WithCaller(context.Background(), facade.Caller{MSPID: "MyOrg3MSP", Channel: "beta"})
			st := facade.Status(c.call(ctx))
			if st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), `"beta"`) {
				t.Errorf("status = %v %q, want PermissionDenied naming the channel", st.Code(), st.Message())
			}
		})
	}
	if calls := ch.callLog(); len(calls) != 0 {
		t.Errorf("the peer got %v, want nothing", calls)
	}
	// The default channel is the first served one.
	ctx := facade.WithCaller(context.Background(), facade.Caller{MSPID: "MyOrg3MSP"})
	if _, err := g.Evaluate(ctx, tx, nil); err != nil {
		t.Errorf("evaluate on the default channel: %v", err)
	}
}

// TestCompactPayloads: Submit sends its request in compact form (plain
// with Config.PlainPayloads), Evaluate plain; both read answers in either
// form; an answer that does not decode is Internal and says that the
// transaction may be committed.
func TestCompactPayloads(t *testing.T) {
	codec := mustCodec()
	broken := []byte{0, 1, 0x28, 0xb5, 0x2f, 0xfd, 0xff}
	for _, tt := range []struct {
		name        string
		plain       bool
		results     []result
		submit      bool
		wantCompact bool
		want        string
		wantErr     string
	}{
		{name: "submit", submit: true, wantCompact: true, want: "echo:req"},
		{name: "submit, plain payloads", plain: true, submit: true, want: "echo:req"},
		{name: "evaluate", want: "echo:req"},
		{name: "plain answer to a compact request", submit: true, wantCompact: true, results: []result{{payload: []byte("old")}}, want: "old"},
		{name: "compact answer to an evaluate", results: []result{{payload: codec.Encode([]byte("new"))}}, want: "new"},
		{name: "undecodable answer", submit: true, wantCompact: true, results: []result{{payload: broken}}, wantErr: "cannot be read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch := &fakeChannel{name: DefaultChannel, results: append(tt.results, result{})}
			g := testGatewayConfig(t, Config{MSPID: "Org1MSP", PlainPayloads: tt.plain}, map[string]*fakeChannel{DefaultChannel: ch})
			call := g.Evaluate
			if tt.submit {
				call = g.Submit
			}
			res, err := call(context.Background(), tx, []byte("req"))
			if tt.wantErr != "" {
				if orcerr.KindOf(err) != orcerr.Internal || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want Internal saying %q", err, tt.wantErr)
				}
			} else if err != nil || string(res) != tt.want {
				t.Fatalf("got (%q, %v), want %q", res, err, tt.want)
			}
			if !slices.Equal(ch.compact, []bool{tt.wantCompact}) {
				t.Errorf("requests in compact form: %v, want [%v]", ch.compact, tt.wantCompact)
			}
		})
	}
}
