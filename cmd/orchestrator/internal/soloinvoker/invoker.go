package soloinvoker

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo"
	"github.com/fedchain/orchestrator/solo/store"
)

// CallerFunc returns the verified caller of a request: its MSP id and
// channel (the facade's CallerFrom).
type CallerFunc func(ctx context.Context) (mspID, channel string, ok bool)

// Invoker runs transactions on a solo.Peer. Its Submit and Evaluate have
// the facade.Invoker signatures.
type Invoker struct {
	peer    *solo.Peer
	caller  CallerFunc
	retries *prometheus.CounterVec
	txs     *prometheus.CounterVec
	// locates holds a token per running start-event look-up.
	locates chan struct{}
	// indexes are the event indexes of the channels, built on the first
	// look-up of a start event (see eventIndex).
	indexMu sync.Mutex
	indexes map[string]*eventIndex
}

// New returns an Invoker over p. Its metrics (transactions and MVCC
// retries per transaction name) are registered on reg when not nil.
func New(p *solo.Peer, caller CallerFunc, reg prometheus.Registerer) *Invoker {
	inv := &Invoker{
		peer:    p,
		caller:  caller,
		locates: make(chan struct{}, maxLocates),
		indexes: map[string]*eventIndex{},
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orchestrator", Subsystem: "solo", Name: "transaction_retries_total",
			Help: "Re-executions of submitted transactions after an MVCC conflict, by transaction.",
		}, []string{"tx"}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "orchestrator", Subsystem: "solo", Name: "transactions_total",
			Help: "Transactions run, by transaction, kind (submit, evaluate) and result.",
		}, []string{"tx", "kind", "result"}),
	}
	if reg != nil {
		reg.MustRegister(inv.retries, inv.txs)
	}
	return inv
}

// Submit runs tx as an update transaction and commits it.
func (i *Invoker) Submit(ctx context.Context, tx string, arg []byte) ([]byte, error) {
	return i.run(ctx, tx, arg, true)
}

// Evaluate runs tx as a query; nothing is committed.
func (i *Invoker) Evaluate(ctx context.Context, tx string, arg []byte) ([]byte, error) {
	return i.run(ctx, tx, arg, false)
}

func (i *Invoker) run(ctx context.Context, tx string, arg []byte, submit bool) ([]byte, error) {
	prop, err := i.proposal(ctx, tx, arg)
	if err != nil {
		return nil, err
	}
	kind := "evaluate"
	var res *solo.Result
	if submit {
		kind = "submit"
		res, err = i.peer.Submit(ctx, prop)
	} else {
		res, err = i.peer.Evaluate(ctx, prop)
	}
	if res != nil && res.Attempts > 1 {
		i.retries.WithLabelValues(tx).Add(float64(res.Attempts - 1))
	}
	if err != nil {
		err = mapError(tx, err)
		i.txs.WithLabelValues(tx, kind, facade.Status(err).Code().String()).Inc()
		return nil, err
	}
	i.txs.WithLabelValues(tx, kind, "OK").Inc()
	return res.Payload, nil
}

// proposal builds the solo proposal of a contractapi transaction: the
// arguments are the function name ("contract:Method") and the request.
func (i *Invoker) proposal(ctx context.Context, tx string, arg []byte) (solo.Proposal, error) {
	mspID, channel, ok := i.caller(ctx)
	if !ok || mspID == "" || channel == "" {
		return solo.Proposal{}, orcerr.New(orcerr.Internal, "no caller identity in the request context")
	}
	return solo.Proposal{
		Channel: channel,
		Creator: solo.Identity{MSPID: mspID, CertPEM: ClientCertPEM(ctx)},
		Args:    [][]byte{[]byte(tx), arg},
	}, nil
}

// ClientCertPEM returns the TLS client certificate of the request's
// connection in PEM, nil without one.
func ClientCertPEM(ctx context.Context) []byte {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return nil
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return nil
	}
	return certPEM(ti.State.PeerCertificates[0])
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// mapError turns a solo error into an error the facade maps to a gRPC
// status (facade.Status): chaincode errors keep their orchestration kind
// (the code at the start of their message), an MVCC conflict that survived
// the retries wraps facade.ErrConflict (Aborted), a closed peer or an
// unreachable store facade.ErrUnavailable, a commit whose outcome the store
// cannot tell facade.ErrOutcomeUnknown; context errors stay as they are. Other errors are
// wrapped as they are: the facade answers them with a bare Internal status
// and the server logs the cause.
func mapError(tx string, err error) error {
	var ce *solo.ChaincodeError
	switch {
	case errors.As(err, &ce):
		if kind, msg, ok := orcerr.Parse(ce.Message); ok {
			return &orcerr.Error{Kind: kind, Msg: msg}
		}
		if strings.Contains(ce.Message, "not found in contract") || strings.Contains(ce.Message, "Contract not found") {
			return orcerr.New(orcerr.Unimplemented, "%s: %s", tx, ce.Message)
		}
		// Not an orchestration error (a chaincode panic, a contract API
		// failure): the caller gets a bare Internal, the log the cause.
		return fmt.Errorf("%s: %w", tx, err)
	case errors.Is(err, solo.ErrConflict):
		return fmt.Errorf("%s: %w: %w", tx, facade.ErrConflict, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, store.ErrOutcomeUnknown):
		return fmt.Errorf("%s: %w: %w", tx, facade.ErrOutcomeUnknown, err)
	case errors.Is(err, solo.ErrClosed), errors.Is(err, store.ErrClosed), errors.Is(err, store.ErrUnavailable):
		return fmt.Errorf("%s: %w: %w", tx, facade.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", tx, err)
}
