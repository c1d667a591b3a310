package fabricgw

import (
	"context"
	"strconv"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// gatewayChannel is a channel served by the fabric-gateway client.
type gatewayChannel struct {
	network  *client.Network
	contract *client.Contract
	qscc     *client.Contract
}

func (c gatewayChannel) submit(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return c.contract.SubmitWithContext(ctx, name, client.WithBytesArguments(arg))
}

func (c gatewayChannel) evaluate(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return c.contract.EvaluateWithContext(ctx, name, client.WithBytesArguments(arg))
}

// height returns the number of blocks of the channel, asking the peer's
// ledger query system chaincode.
func (c gatewayChannel) height(ctx context.Context) (uint64, error) {
	res, err := c.qscc.EvaluateWithContext(ctx, "GetChainInfo", client.WithArguments(c.network.Name()))
	if err != nil {
		return 0, err
	}
	info := new(cb.BlockchainInfo)
	if err := proto.Unmarshal(res, info); err != nil {
		return 0, err
	}
	return info.GetHeight(), nil
}

// blocks streams the channel's blocks from block number start on.
func (c gatewayChannel) blocks(ctx context.Context, start uint64) (<-chan *cb.Block, error) {
	return c.network.BlockEvents(ctx, client.WithStartBlock(start))
}

// block returns block number n of the channel, asking the peer's ledger
// query system chaincode.
func (c gatewayChannel) block(ctx context.Context, n uint64) (*cb.Block, error) {
	res, err := c.qscc.EvaluateWithContext(ctx, "GetBlockByNumber", client.WithArguments(c.network.Name(), strconv.FormatUint(n, 10)))
	if err != nil {
		return nil, err
	}
	b := new(cb.Block)
	if err := proto.Unmarshal(res, b); err != nil {
		return nil, err
	}
	return b, nil
}
