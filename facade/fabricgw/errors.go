package fabricgw

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// isReadConflict reports whether err is a transaction that was ordered but
// not committed because what it read changed meanwhile: running it again
// may succeed.
func isReadConflict(err error) bool {
	var ce *client.CommitError
	if !errors.As(err, &ce) {
		return false
	}
	return ce.Code == peer.TxValidationCode_MVCC_READ_CONFLICT || ce.Code == peer.TxValidationCode_PHANTOM_READ_CONFLICT
}

// refusedElsewhereOnly reports whether err is an endorsement that only
// peers of organizations other than mspid refused: the Gateway's own peer
// (which the gateway asks first) endorsed the proposal, so a refusing
// peer may just not have committed the latest blocks yet (a transaction
// that this Gateway's Submit saw committed on its own peer, not yet on the
// others).
func refusedElsewhereOnly(err error, mspid string) bool {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) {
		return false
	}
	refused := false
	for _, d := range gs.GRPCStatus().Details() {
		ed, ok := d.(*gateway.ErrorDetail)
		if !ok {
			continue
		}
		if ed.GetMspId() == mspid {
			return false
		}
		refused = true
	}
	return refused
}

// gatewayError turns an error of the gateway client for transaction tx into
// the error the facade expects:
//
//   - a contract error (an "OExxxx: " code in the gateway's message or in
//     the endorsement details it attaches) becomes the *orcerr.Error of that
//     kind and message, exactly as the contract returned it;
//   - the end of ctx is reported as ctx's error;
//   - a peer or orderer that cannot be reached wraps facade.ErrUnavailable,
//     and so does an endorsement that cannot be collected because the
//     peers the policy needs are down;
//   - anything else (a commit failing validation, a refused proposal) is
//     wrapped with tx as context.
func gatewayError(ctx context.Context, tx string, err error) error {
	if oe, ok := contractError(err); ok {
		return oe
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", tx, ctxErr)
	}
	if st, ok := status.FromError(err); ok {
		if noEndorsers(st) {
			return fmt.Errorf("%s: %w: %w", tx, facade.ErrUnavailable, err)
		}
		switch st.Code() {
		case codes.Unavailable:
			return fmt.Errorf("%s: %w: %w", tx, facade.ErrUnavailable, err)
		case codes.DeadlineExceeded:
			return fmt.Errorf("%s: %w: %w", tx, context.DeadlineExceeded, err)
		case codes.Canceled:
			return fmt.Errorf("%s: %w: %w", tx, context.Canceled, err)
		}
	}
	return fmt.Errorf("%s: %w", tx, err)
}

// noEndorsers reports whether st is the gateway's refusal to endorse
// because the peers that the endorsement policy needs are not reachable:
// FailedPrecondition "no combination of peers can be derived which
// satisfy the endorsement policy" (the gateway knows the peer is gone), or
// an endorsement error whose every detail (one per peer asked) says that
// the peer could not be talked to (peerUnreachable: it went away while it
// was asked). Nothing was ordered then.
func noEndorsers(st *status.Status) bool {
	if st.Code() == codes.FailedPrecondition && strings.Contains(st.Message(), "satisfy the endorsement policy") {
		return true
	}
	n := 0
	for _, d := range st.Details() {
		ed, ok := d.(*gateway.ErrorDetail)
		if !ok {
			continue
		}
		if !peerUnreachable(ed.GetMessage()) {
			return false
		}
		n++
	}
	return n > 0
}

// peerUnreachable reports whether the message of an endorsement detail
// says that the peer could not be talked to: its connection failed
// (Unavailable) or was being closed as the peer went away (Canceled with
// "connection is closing", which the gateway reports for a peer killed
// while it was asked).
func peerUnreachable(msg string) bool {
	return strings.Contains(msg, "code = Unavailable") ||
		strings.Contains(msg, "code = Canceled") && strings.Contains(msg, "connection is closing")
}

// submitError is gatewayError for a submit of tx on channel, telling a
// write that may have happened from one that did not:
//
//   - a transaction that was endorsed and handed to the gateway for
//     ordering, but whose commit status did not come (the peer went away,
//     the deadline passed) wraps facade.ErrOutcomeUnknown: it may still
//     be committed;
//   - so does one whose hand-over to the orderer failed, unless the
//     failure says the orderer could not even be connected to (then it
//     never got the transaction, and the error wraps
//     facade.ErrUnavailable);
//   - an endorsement failure wraps facade.ErrUnavailable (nothing is
//     ordered before the endorsements are in).
func submitError(ctx context.Context, tx, channel string, err error) error {
	if _, ok := contractError(err); ok {
		return gatewayError(ctx, tx, err)
	}
	var (
		cse *client.CommitStatusError
		se  *client.SubmitError
		id  string
	)
	switch {
	case errors.As(err, &cse):
		id = cse.TransactionID
	case errors.As(err, &se) && !neverReachedOrderer(err):
		id = se.TransactionID
	default:
		return channelError(ctx, tx, channel, err)
	}
	// %v, not %w: the caller must see ErrOutcomeUnknown, not the deadline
	// or the transport error that caused it.
	return fmt.Errorf("%s (transaction %s on %s): %w: %v", tx, id, channel, facade.ErrOutcomeUnknown, err)
}

// neverReachedOrderer reports whether a failed hand-over to the orderer
// says that no orderer could be connected to at all.
func neverReachedOrderer(err error) bool {
	for _, t := range errorTexts(err) {
		if strings.Contains(t, "connection refused") {
			return true
		}
	}
	return false
}

// channelError is gatewayError for a call of tx on channel, except that an
// error saying that the peer has no such channel (or refuses this
// organization on it) becomes an orcerr.PermissionDenied error naming the
// channel: the caller's organization is not a member of a channel of that
// name on this peer.
func channelError(ctx context.Context, tx, channel string, err error) error {
	if _, ok := contractError(err); !ok && ctx.Err() == nil {
		if st, ok := status.FromError(err); ok && isChannelRefusal(st, channel) {
			return orcerr.New(orcerr.PermissionDenied, "channel %q: the peer has no such channel or refuses this organization on it (%s)", channel, st.Message())
		}
	}
	return gatewayError(ctx, tx, err)
}

// isChannelRefusal reports whether st is a peer's refusal of a call on
// channel: a NotFound, PermissionDenied or FailedPrecondition status that
// names the channel, or the Unavailable status "failed to get config for
// channel [name]: could not get last config for channel name" with which
// the Fabric 3.1 gateway answers a channel its peer has not joined.
func isChannelRefusal(st *status.Status, channel string) bool {
	msg := st.Message()
	switch st.Code() {
	case codes.NotFound, codes.PermissionDenied, codes.FailedPrecondition:
		return strings.Contains(msg, channel)
	case codes.Unavailable:
		return strings.Contains(msg, "could not get last config for channel "+channel) ||
			strings.Contains(msg, "failed to get config for channel ["+channel+"]")
	}
	return false
}

// contractError finds the orchestration error that a gateway error carries:
// the first "OExxxx: " code in its status message or in the message of one
// of its endorsement details (one per peer that refused).
func contractError(err error) (*orcerr.Error, bool) {
	for _, text := range errorTexts(err) {
		if kind, msg, ok := orcerr.Parse(text); ok {
			return &orcerr.Error{Kind: kind, Msg: msg}, true
		}
	}
	return nil, false
}

// errorTexts lists the messages of err where a contract error can be: the
// gRPC status message, then each gateway error detail's message. An error
// without status contributes its text.
func errorTexts(err error) []string {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) {
		return []string{err.Error()}
	}
	st := gs.GRPCStatus()
	texts := []string{st.Message()}
	for _, d := range st.Details() {
		if ed, ok := d.(*gateway.ErrorDetail); ok {
			texts = append(texts, ed.GetMessage())
		}
	}
	return texts
}
