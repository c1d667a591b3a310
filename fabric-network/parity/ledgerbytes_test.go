package parity_test

import (
	"context"
	"fmt"

	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/facade/fabricgw"
)

// ledgerBytes is what a range of blocks holds, by part, for the valid
// endorser transactions of a chaincode.
type ledgerBytes struct {
	blocks, txs        int
	block              int // whole blocks, headers and metadata included
	envelope           int // the transactions' envelopes
	args, answer       int // the proposal's input, the chaincode's response payload
	event              int // the chaincode event
	writes, writtenKey int // the write set's keys and values, and how many keys
}

// measureLedger reads blocks from to to-1 of channel and adds up their
// parts.
func measureLedger(ctx context.Context, gw *fabricgw.Gateway, channel, chaincode string, from, to uint64) (ledgerBytes, error) {
	var lb ledgerBytes
	for n := from; n < to; n++ {
		b, err := gw.Block(ctx, channel, n)
		if err != nil {
			return lb, err
		}
		lb.blocks++
		lb.block += proto.Size(b)
		var flags []byte
		if md := b.GetMetadata().GetMetadata(); len(md) > int(cb.BlockMetadataIndex_TRANSACTIONS_FILTER) {
			flags = md[cb.BlockMetadataIndex_TRANSACTIONS_FILTER]
		}
		for i, data := range b.GetData().GetData() {
			if i >= len(flags) || peer.TxValidationCode(flags[i]) != peer.TxValidationCode_VALID {
				continue
			}
			if err := lb.addTx(data, chaincode); err != nil {
				return lb, fmt.Errorf("block %d, transaction %d: %w", n, i, err)
			}
		}
	}
	return lb, nil
}

func (lb *ledgerBytes) addTx(envelope []byte, chaincode string) error {
	env := new(cb.Envelope)
	if err := proto.Unmarshal(envelope, env); err != nil {
		return err
	}
	payload := new(cb.Payload)
	if err := proto.Unmarshal(env.GetPayload(), payload); err != nil {
		return err
	}
	hdr := new(cb.ChannelHeader)
	if err := proto.Unmarshal(payload.GetHeader().GetChannelHeader(), hdr); err != nil {
		return err
	}
	if hdr.GetType() != int32(cb.HeaderType_ENDORSER_TRANSACTION) {
		return nil
	}
	tx := new(peer.Transaction)
	if err := proto.Unmarshal(payload.GetData(), tx); err != nil {
		return err
	}
	lb.txs++
	lb.envelope += len(envelope)
	for _, action := range tx.GetActions() {
		ap := new(peer.ChaincodeActionPayload)
		if err := proto.Unmarshal(action.GetPayload(), ap); err != nil {
			return err
		}
		cpp := new(peer.ChaincodeProposalPayload)
		if err := proto.Unmarshal(ap.GetChaincodeProposalPayload(), cpp); err != nil {
			return err
		}
		lb.args += len(cpp.GetInput())
		prp := new(peer.ProposalResponsePayload)
		if err := proto.Unmarshal(ap.GetAction().GetProposalResponsePayload(), prp); err != nil {
			return err
		}
		ca := new(peer.ChaincodeAction)
		if err := proto.Unmarshal(prp.GetExtension(), ca); err != nil {
			return err
		}
		lb.answer += len(ca.GetResponse().GetPayload())
		lb.event += len(ca.GetEvents())
		rws := new(rwset.TxReadWriteSet)
		if err := proto.Unmarshal(ca.GetResults(), rws); err != nil {
			return err
		}
		for _, ns := range rws.GetNsRwset() {
			if ns.GetNamespace() != chaincode {
				continue
			}
			kv := new(kvrwset.KVRWSet)
			if err := proto.Unmarshal(ns.GetRwset(), kv); err != nil {
				return err
			}
			for _, w := range kv.GetWrites() {
				lb.writes += len(w.GetKey()) + len(w.GetValue())
				lb.writtenKey++
			}
		}
	}
	return nil
}

// perItem describes lb per item, items being how many each transaction
// carries (tasks per RegisterTasks).
func (lb ledgerBytes) perItem(items int) string {
	n := float64(lb.txs * items)
	if n == 0 {
		return "no transaction"
	}
	per := func(v int) float64 { return float64(v) / n }
	return fmt.Sprintf("%.0f B per item on the ledger (blocks %d B over %d tx in %d blocks; envelope %.0f: arguments %.0f, answer %.0f, chaincode event %.0f, %.1f written keys %.0f)",
		per(lb.block), lb.block, lb.txs, lb.blocks, per(lb.envelope), per(lb.args), per(lb.answer), per(lb.event), float64(lb.writtenKey)/n, per(lb.writes))
}
