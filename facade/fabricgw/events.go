package fabricgw

import (
	"context"
	"fmt"
	"iter"
	"sync"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/facade"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/compactwire"
	"github.com/fedchain/orchestrator/protos/eventwire"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// blockSource gives the blocks of one channel.
type blockSource interface {
	// height returns the number of blocks of the channel.
	height(ctx context.Context) (uint64, error)
	// blocks streams the blocks from number start on; the channel closes
	// when ctx ends or the stream fails.
	blocks(ctx context.Context, start uint64) (<-chan *cb.Block, error)
}

// Subscribe returns the orchestrator events of channel (the configured
// channel when "") that follow the event whose id is afterID, all of them
// when afterID is "", then each new one as its block is committed. It keeps
// the events of valid transactions of the orchestrator chaincode, in block
// order, so it neither skips nor repeats an event.
//
// To resume after afterID it first finds the block of that event: at once
// when the Gateway streamed the event recently (it remembers the blocks of
// the last eventIndexSize events), else by reading the chain backwards from
// its end in windows that double in size, so that the cost is proportional
// to how far back the event is, not to the length of the chain. It yields
// an orcerr.NotFound error when afterID is no event of the channel, ctx's
// error once ctx ends, and facade.ErrUnavailable when the peer ends the
// block stream.
//
// Subscribe implements facade.EventSource.
func (g *Gateway) Subscribe(ctx context.Context, channel, afterID string) iter.Seq2[*protos.Event, error] {
	return func(yield func(*protos.Event, error) bool) {
		if c, ok := facade.CallerFrom(ctx); ok && c.MSPID != "" && c.MSPID != g.cfg.MSPID {
			yield(nil, orcerr.New(orcerr.PermissionDenied, "this orchestrator acts for %s, not for %s", g.cfg.MSPID, c.MSPID))
			return
		}
		if channel == "" {
			channel = g.cfg.Channel
		}
		if err := g.checkChannel(channel); err != nil {
			yield(nil, err)
			return
		}
		src := g.channel(channel)
		var start uint64
		if afterID != "" {
			b, err := g.locate(ctx, channel, src, afterID)
			if err != nil {
				yield(nil, err)
				return
			}
			start = b
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		blocks, err := src.blocks(ctx, start)
		if err != nil {
			yield(nil, channelError(ctx, "read blocks", channel, err))
			return
		}
		skipping := afterID != ""
		for first := true; ; first = false {
			b, err := nextBlock(ctx, channel, blocks)
			if err != nil {
				if first && ctx.Err() == nil {
					err = g.whyNoBlocks(ctx, channel, src, err)
				}
				yield(nil, err)
				return
			}
			events, err := g.blockEvents(channel, b)
			if err != nil {
				yield(nil, err)
				return
			}
			if skipping {
				// The first block is the one holding afterID.
				if events = eventsAfter(events, afterID); events == nil {
					yield(nil, fmt.Errorf("event %s is no longer in block %d: %w", afterID, b.GetHeader().GetNumber(), facade.ErrUnavailable))
					return
				}
				skipping = false
			}
			for _, ev := range events {
				if !yield(ev, nil) {
					return
				}
			}
		}
	}
}

// whyNoBlocks returns the error of a block stream of channel that ended
// before its first block: the block stream does not say why, so it asks
// the peer for the channel's height, whose error says whether the peer
// has the channel at all (an orcerr.PermissionDenied error naming it when
// not); else it returns streamErr.
func (g *Gateway) whyNoBlocks(ctx context.Context, channel string, src blockSource, streamErr error) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.EvaluateTimeout)
	defer cancel()
	if _, err := src.height(ctx); err != nil {
		if ce := channelError(ctx, "read channel height", channel, err); orcerr.KindOf(ce) == orcerr.PermissionDenied {
			return ce
		}
	}
	return streamErr
}

// nextBlock returns the next block of a stream, ctx's error once ctx ends,
// or facade.ErrUnavailable when the stream ended.
func nextBlock(ctx context.Context, channel string, blocks <-chan *cb.Block) (*cb.Block, error) {
	select {
	case b, ok := <-blocks:
		if ok {
			return b, nil
		}
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("block stream of %s ended: %w", channel, facade.ErrUnavailable)
}

// blockEvents returns the orchestrator events of b and remembers in which
// block they are, in the checkpoint too.
func (g *Gateway) blockEvents(channel string, b *cb.Block) ([]*protos.Event, error) {
	events, err := blockEvents(b, g.cfg.Chaincode, g.codec)
	if err != nil {
		return nil, err
	}
	n := b.GetHeader().GetNumber()
	var added []string
	for _, ev := range events {
		if g.events.put(channel, ev.GetId(), n) {
			added = append(added, ev.GetId())
		}
	}
	if g.ckpt != nil && len(added) > 0 {
		if err := g.ckpt.record(&g.events, channel, added, n); err != nil {
			// The checkpoint only saves searches of the chain: a Gateway
			// that cannot write it goes on without it, as one started
			// without --state-dir does.
			g.ckpt.close()
		}
	}
	return events, nil
}

// locate returns the number of the block of channel that holds event id:
// from the positions of the events this Gateway streamed or checkpointed
// recently, else from the channel's chain index (chainIndex). An event
// that a client saw was committed before it asked, usually near the end of
// the chain, so the index grows from the end backwards, in windows twice
// as long each time (block h-1, then h-3 to h-2, h-7 to h-4, ...), and
// forwards with the blocks the chain grew by: a subscriber resuming near
// the end costs about twice the blocks that separate its event from the
// end, and once the index reaches the first block an id that no event has
// is an orcerr.NotFound error answered from the index, not by reading the
// chain again.
func (g *Gateway) locate(ctx context.Context, channel string, src blockSource, id string) (uint64, error) {
	if b, ok := g.events.get(channel, id); ok {
		return b, nil
	}
	if !eventwire.IsID(id) {
		return 0, orcerr.New(orcerr.NotFound, "event %s not found (event ids are UUIDs)", id)
	}
	x := g.chainIndex(channel)
	x.mu.Lock()
	defer x.mu.Unlock()
	height, err := src.height(ctx)
	if err != nil {
		return 0, gatewayError(ctx, "read channel height", err)
	}
	if !x.started {
		x.lo, x.hi, x.started = height, height, true
	}
	// What the index knows already; a candidate is only checked (one
	// block) where ids merely share their first bytes.
	for _, n := range x.ids.Candidates(id) {
		if b, found, err := g.index(ctx, channel, src, x, n, n+1, id); err != nil || found {
			return b, err
		}
	}
	// The blocks added since, then older ones from the end backwards, then
	// those added meanwhile (the client may have seen the event on another
	// organization's peer, a little ahead of this one).
	if b, found, err := g.index(ctx, channel, src, x, x.hi, height, id); err != nil || found {
		return b, err
	}
	x.hi = max(x.hi, height)
	for size := uint64(1); x.lo > 0; size *= 2 {
		lo := x.lo - min(size, x.lo)
		b, found, err := g.index(ctx, channel, src, x, lo, x.lo, id)
		if err != nil || found {
			return b, err
		}
		x.lo = lo
	}
	now, err := src.height(ctx)
	if err != nil {
		return 0, gatewayError(ctx, "read channel height", err)
	}
	if b, found, err := g.index(ctx, channel, src, x, x.hi, now, id); err != nil || found {
		return b, err
	}
	x.hi = max(x.hi, now)
	return 0, orcerr.New(orcerr.NotFound, "event %s not found", id)
}

// chainIndex maps the event ids of one channel to the numbers of the
// blocks that hold them (an eventwire.Index, 16 bytes per event), for the
// blocks [lo, hi) it has read. The chain only grows, so what it holds stays
// true; locate extends it.
type chainIndex struct {
	mu      sync.Mutex
	started bool
	lo, hi  uint64
	ids     *eventwire.Index
}

// chainIndex returns the chain index of channel, creating it empty.
func (g *Gateway) chainIndex(channel string) *chainIndex {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.chains == nil {
		g.chains = map[string]*chainIndex{}
	}
	x, ok := g.chains[channel]
	if !ok {
		x = &chainIndex{ids: eventwire.NewIndex()}
		g.chains[channel] = x
	}
	return x
}

// index reads blocks lo to hi-1 of channel into x and reports the number of
// the one holding event id, if one does (then it stops there: the blocks
// after it are read again later).
func (g *Gateway) index(ctx context.Context, channel string, src blockSource, x *chainIndex, lo, hi uint64, id string) (uint64, bool, error) {
	if lo >= hi {
		return 0, false, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := src.blocks(ctx, lo)
	if err != nil {
		return 0, false, gatewayError(ctx, "read blocks", err)
	}
	for {
		b, err := nextBlock(ctx, channel, blocks)
		if err != nil {
			return 0, false, err
		}
		events, err := g.blockEvents(channel, b)
		if err != nil {
			return 0, false, err
		}
		n := b.GetHeader().GetNumber()
		found := false
		for _, ev := range events {
			x.ids.Add(ev.GetId(), n)
			found = found || ev.GetId() == id
		}
		if found {
			return n, true, nil
		}
		if n+1 >= hi {
			return 0, false, nil
		}
	}
}

// eventsAfter returns the events that follow the one with id afterID, an
// empty non-nil slice when it is the last one, nil when it is not there.
func eventsAfter(events []*protos.Event, afterID string) []*protos.Event {
	for i, ev := range events {
		if ev.GetId() == afterID {
			return events[i+1:]
		}
	}
	return nil
}

// blockEvents returns the orchestrator events of the valid transactions of
// chaincode in b, in block order; codec decodes the chaincode events that
// are in compact form (those of the transactions whose request was).
func blockEvents(b *cb.Block, chaincode string, codec *compactwire.Codec) ([]*protos.Event, error) {
	var flags []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(cb.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		flags = md[cb.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	var events []*protos.Event
	for i, data := range b.GetData().GetData() {
		if i >= len(flags) || peer.TxValidationCode(flags[i]) != peer.TxValidationCode_VALID {
			continue
		}
		ce, err := chaincodeEvent(data)
		if err != nil {
			return nil, fmt.Errorf("block %d, transaction %d: %w", b.GetHeader().GetNumber(), i, err)
		}
		if ce == nil || ce.GetChaincodeId() != chaincode || ce.GetEventName() != eventwire.ChaincodeEventName {
			continue
		}
		payload, err := codec.Decode(ce.GetPayload())
		if err != nil {
			return nil, fmt.Errorf("block %d, transaction %s: %w", b.GetHeader().GetNumber(), ce.GetTxId(), err)
		}
		evs, err := eventwire.Decode(payload)
		if err != nil {
			return nil, fmt.Errorf("block %d, transaction %s: %w", b.GetHeader().GetNumber(), ce.GetTxId(), err)
		}
		events = append(events, evs...)
	}
	return events, nil
}

// chaincodeEvent returns the chaincode event of the endorser transaction in
// envelope, nil if it is another kind of transaction or has no event.
func chaincodeEvent(envelope []byte) (*peer.ChaincodeEvent, error) {
	env := new(cb.Envelope)
	if err := proto.Unmarshal(envelope, env); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	payload := new(cb.Payload)
	if err := proto.Unmarshal(env.GetPayload(), payload); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	hdr := new(cb.ChannelHeader)
	if err := proto.Unmarshal(payload.GetHeader().GetChannelHeader(), hdr); err != nil {
		return nil, fmt.Errorf("channel header: %w", err)
	}
	if hdr.GetType() != int32(cb.HeaderType_ENDORSER_TRANSACTION) {
		return nil, nil
	}
	tx := new(peer.Transaction)
	if err := proto.Unmarshal(payload.GetData(), tx); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	for _, action := range tx.GetActions() {
		ap := new(peer.ChaincodeActionPayload)
		if err := proto.Unmarshal(action.GetPayload(), ap); err != nil {
			return nil, fmt.Errorf("action payload: %w", err)
		}
		prp := new(peer.ProposalResponsePayload)
		if err := proto.Unmarshal(ap.GetAction().GetProposalResponsePayload(), prp); err != nil {
			return nil, fmt.Errorf("proposal response payload: %w", err)
		}
		ca := new(peer.ChaincodeAction)
		if err := proto.Unmarshal(prp.GetExtension(), ca); err != nil {
			return nil, fmt.Errorf("chaincode action: %w", err)
		}
		if len(ca.GetEvents()) == 0 {
			continue
		}
		ev := new(peer.ChaincodeEvent)
		if err := proto.Unmarshal(ca.GetEvents(), ev); err != nil {
			return nil, fmt.Errorf("chaincode event: %w", err)
		}
		return ev, nil
	}
	return nil, nil
}
