package fabricgw

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	cb "github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"

	"github.com/fedchain/orchestrator/protos/compactwire"
)

// Gateway runs orchestrator transactions through one peer's Fabric Gateway,
// signed by one organization's member. It is safe for concurrent use.
type Gateway struct {
	cfg  Config
	conn *grpc.ClientConn
	gw   *client.Gateway

	mu          sync.Mutex
	channels    map[string]channel
	openChannel func(name string) channel

	events eventIndex
	chains map[string]*chainIndex // under mu; channels are the configured ones
	ckpt   *checkpoint            // nil without Config.StateDir

	// codec encodes requests and decodes answers and chaincode events in
	// compact form.
	codec *compactwire.Codec
}

// channel is what a Gateway uses of one channel: the orchestrator chaincode
// and the channel's blocks.
type channel interface {
	transactor
	blockSource
}

// Open connects to the peer that cfg names and returns a Gateway for cfg's
// organization. It fails when the files of cfg cannot be read or the peer
// cannot be reached before ctx ends.
func Open(ctx context.Context, cfg Config) (*Gateway, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(cfg.Cert)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: read certificate: %w", err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: certificate %s: %w", cfg.Cert, err)
	}
	id, err := identity.NewX509Identity(cfg.MSPID, cert)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: identity: %w", err)
	}
	keyPEM, err := readKeyFile(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: read private key: %w", err)
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: private key %s: %w", cfg.Key, err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: signer: %w", err)
	}
	caPEM, err := os.ReadFile(cfg.PeerTLSCA)
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: read peer TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("fabric gateway: %s holds no PEM certificate", cfg.PeerTLSCA)
	}
	conn, err := grpc.NewClient(cfg.PeerEndpoint,
		grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, cfg.PeerHostOverride)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)),
		grpc.WithConnectParams(reconnectParams()))
	if err != nil {
		return nil, fmt.Errorf("fabric gateway: %s: %w", cfg.PeerEndpoint, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dialTimeout)
		defer cancel()
	}
	if err := waitReady(ctx, conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("fabric gateway: peer %s unreachable: %w", cfg.PeerEndpoint, err)
	}
	gw, err := client.Connect(id, client.WithSign(sign), client.WithClientConnection(conn))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("fabric gateway: connect: %w", err)
	}
	g := &Gateway{cfg: cfg, conn: conn, gw: gw}
	if err := g.init(); err != nil {
		gw.Close()
		conn.Close()
		return nil, err
	}
	g.openChannel = func(name string) channel {
		network := gw.GetNetwork(name)
		return gatewayChannel{network: network, contract: network.GetContract(cfg.Chaincode), qscc: network.GetContract("qscc")}
	}
	return g, nil
}

// maxMessageSize bounds a message to or from the peer: the peers' own
// default limit (100 MiB), so that big blocks and results get through
// (gRPC's default is 4 MiB).
const maxMessageSize = 100 << 20

// reconnectParams say how the Gateway redials its peer after losing it:
// within reconnectMaxDelay of its return, not after gRPC's default
// back-off of up to two minutes, during which every call would fail with
// Unavailable although the peer is back.
func reconnectParams() grpc.ConnectParams {
	return grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: reconnectMaxDelay},
		MinConnectTimeout: 5 * time.Second,
	}
}

// reconnectMaxDelay bounds the pause between two dials of a lost peer.
const reconnectMaxDelay = 2 * time.Second

// dialTimeout bounds Open's wait for the peer when its context has no deadline.
const dialTimeout = 30 * time.Second

// newGateway returns a Gateway over channels that open returns, for tests.
func newGateway(cfg Config, open func(name string) channel) (*Gateway, error) {
	g := &Gateway{cfg: cfg.withDefaults(), openChannel: open}
	if err := g.init(); err != nil {
		return nil, err
	}
	return g, nil
}

// init makes the Gateway's codec and loads the event checkpoint of
// Config.StateDir, if set.
func (g *Gateway) init() error {
	codec, err := compactwire.NewCodec()
	if err != nil {
		return fmt.Errorf("fabric gateway: %w", err)
	}
	g.codec = codec
	if g.cfg.StateDir == "" {
		return nil
	}
	c, err := openCheckpoint(g.cfg.StateDir, &g.events)
	if err != nil {
		return fmt.Errorf("fabric gateway: %w", err)
	}
	g.ckpt = c
	return nil
}

// waitReady waits until conn is connected, or ctx ends.
func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			return nil
		case connectivity.Shutdown:
			return errors.New("connection shut down")
		}
		if !conn.WaitForStateChange(ctx, s) {
			return ctx.Err()
		}
	}
}

// MSPID returns the organization the Gateway acts for.
func (g *Gateway) MSPID() string { return g.cfg.MSPID }

// Close ends the connection to the peer and closes the event checkpoint.
func (g *Gateway) Close() error {
	if g.ckpt != nil {
		g.ckpt.close()
	}
	if g.gw != nil {
		g.gw.Close()
	}
	if g.conn != nil {
		return g.conn.Close()
	}
	return nil
}

// channel returns the named channel, opening it on first use.
func (g *Gateway) channel(name string) channel {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.channels[name]; ok {
		return c
	}
	if g.channels == nil {
		g.channels = make(map[string]channel)
	}
	c := g.openChannel(name)
	g.channels[name] = c
	return c
}

// Height returns the number of blocks of channel (the configured channel
// when "") on the Gateway's peer.
func (g *Gateway) Height(ctx context.Context, channel string) (uint64, error) {
	if channel == "" {
		channel = g.cfg.Channel
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.EvaluateTimeout)
	defer cancel()
	h, err := g.channel(channel).height(ctx)
	if err != nil {
		return 0, gatewayError(ctx, "read channel height", err)
	}
	return h, nil
}

// Block returns block number n of channel (the configured channel when "")
// as the Gateway's peer has it, for tools that measure the ledger (the
// throughput benchmark's bytes per transaction).
func (g *Gateway) Block(ctx context.Context, channel string, n uint64) (*cb.Block, error) {
	if channel == "" {
		channel = g.cfg.Channel
	}
	bc, ok := g.channel(channel).(interface {
		block(ctx context.Context, n uint64) (*cb.Block, error)
	})
	if !ok {
		return nil, errors.New("fabric gateway: this channel cannot read single blocks")
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.EvaluateTimeout)
	defer cancel()
	b, err := bc.block(ctx, n)
	if err != nil {
		return nil, gatewayError(ctx, "read block", err)
	}
	return b, nil
}
