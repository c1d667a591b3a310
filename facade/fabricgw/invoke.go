package fabricgw

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// transactor runs transactions of the orchestrator chaincode on one channel.
type transactor interface {
	// submit endorses, orders and commits transaction name with arg, and
	// returns its result once committed.
	submit(ctx context.Context, name string, arg []byte) ([]byte, error)
	// evaluate runs transaction name with arg on a peer, committing nothing.
	evaluate(ctx context.Context, name string, arg []byte) ([]byte, error)
}

// Submit runs transaction tx with arg and returns its result once the
// transaction is committed. A transaction that fails to commit because of a
// read conflict is run again, up to Config.ConflictRetries times; so is one
// whose endorsement only other organizations' peers refused, since they may
// lag behind this Gateway's peer by a block or two (with a majority policy,
// a transaction that reads what the previous one wrote would otherwise fail
// on a peer that has not committed the previous one yet).
//
// Unless Config.PlainPayloads, the request goes in compact form, so the
// chaincode answers in compact form and sets its event so (what the
// blocks store of the transaction shrinks): Submit decodes the answer.
func (g *Gateway) Submit(ctx context.Context, tx string, arg []byte) ([]byte, error) {
	name, ch, err := g.channelFor(ctx)
	if err != nil {
		return nil, err
	}
	if !g.cfg.PlainPayloads {
		arg = g.codec.Encode(arg)
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.SubmitTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		res, err := ch.submit(ctx, tx, arg)
		if err == nil {
			return g.answer(tx, res)
		}
		conflict := isReadConflict(err)
		if !conflict && !refusedElsewhereOnly(err, g.cfg.MSPID) {
			return nil, submitError(ctx, tx, name, err)
		}
		if attempt >= g.cfg.ConflictRetries {
			if !conflict {
				return nil, submitError(ctx, tx, name, err)
			}
			return nil, fmt.Errorf("%s: %w after %d attempts (%w)", tx, facade.ErrConflict, attempt+1, err)
		}
		if serr := sleep(ctx, conflictBackoff(attempt)); serr != nil {
			if !conflict {
				return nil, submitError(ctx, tx, name, err)
			}
			return nil, fmt.Errorf("%s: retry after read conflict: %w", tx, serr)
		}
	}
}

// Evaluate runs the read-only transaction tx with arg on the peer and returns
// its result.
func (g *Gateway) Evaluate(ctx context.Context, tx string, arg []byte) ([]byte, error) {
	name, ch, err := g.channelFor(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.EvaluateTimeout)
	defer cancel()
	res, err := ch.evaluate(ctx, tx, arg)
	if err != nil {
		return nil, channelError(ctx, tx, name, err)
	}
	return g.answer(tx, res)
}

// answer returns the plain form of the answer res of transaction tx. An
// answer that does not decode is an orcerr.Internal error: the chaincode
// wrote it, and for a Submit the transaction is committed.
func (g *Gateway) answer(tx string, res []byte) ([]byte, error) {
	plain, err := g.codec.Decode(res)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "%s: the transaction's answer of %d bytes cannot be read (a submitted one is committed)", tx, len(res))
	}
	return plain, nil
}

// channelFor returns the name and the channel a call addresses, after
// checking that its caller is the organization this Gateway acts for (the
// gateway signs with that organization's identity, so it must not act for
// another one) and that the Gateway serves that channel.
func (g *Gateway) channelFor(ctx context.Context) (string, channel, error) {
	name := g.cfg.Channel
	if c, ok := facade.CallerFrom(ctx); ok {
		if c.MSPID != "" && c.MSPID != g.cfg.MSPID {
			return "", nil, orcerr.New(orcerr.PermissionDenied, "this orchestrator acts for %s, not for %s", g.cfg.MSPID, c.MSPID)
		}
		if c.Channel != "" {
			name = c.Channel
		}
	}
	if err := g.checkChannel(name); err != nil {
		return "", nil, err
	}
	return name, g.channel(name), nil
}

// checkChannel refuses a channel that the Gateway does not serve.
func (g *Gateway) checkChannel(name string) error {
	if !g.cfg.serves(name) {
		return orcerr.New(orcerr.PermissionDenied, "channel %q is not served by this orchestrator for %s (it serves %s)",
			name, g.cfg.MSPID, strings.Join(g.cfg.Channels, ", "))
	}
	return nil
}

// conflictBackoff is the pause before retry number attempt+1: it doubles from
// 20 ms up to 640 ms, with jitter so that conflicting callers spread out.
func conflictBackoff(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 5)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
