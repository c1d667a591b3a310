package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/codec"
)

// Header names of the caller organization and the channel.
const (
	headerMSPID   = "mspid"
	headerChannel = "channel"
)

// orgClient is the API as seen by one organization: its own connection (to
// its own address, with its own client certificate under mutual TLS) and
// its headers.
type orgClient struct {
	mspid   string
	channel string
	addr    string
	conn    *grpc.ClientConn

	org      protos.OrganizationServiceClient
	function protos.FunctionServiceClient
	dm       protos.DataManagerServiceClient
	sample   protos.DataSampleServiceClient
	plan     protos.ComputePlanServiceClient
	task     protos.ComputeTaskServiceClient
	model    protos.ModelServiceClient
	event    protos.EventServiceClient
}

// maxRecvBytes is the largest response the run accepts (a page of events).
const maxRecvBytes = 64 << 20

// dial opens the connection of organization mspid to its address
// (lazily: the first call connects).
func dial(cfg *Config, mspid string) (*orgClient, error) {
	addr := cfg.addrOf(mspid)
	creds, err := transportCredentials(cfg, mspid)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		// The answers are decoded with the generated unmarshallers: a
		// backend decodes what it reads, and so does the tool, but the
		// runtime's decoder made up most of the tool's cost in the read
		// phases, so that the tool measured itself more than the server.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvBytes), grpc.ForceCodecV2(codec.New(codec.WithGeneratedDecoding()))),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %w", addr, mspid, err)
	}
	return &orgClient{
		mspid:    mspid,
		channel:  cfg.Channel,
		addr:     addr,
		conn:     conn,
		org:      protos.NewOrganizationServiceClient(conn),
		function: protos.NewFunctionServiceClient(conn),
		dm:       protos.NewDataManagerServiceClient(conn),
		sample:   protos.NewDataSampleServiceClient(conn),
		plan:     protos.NewComputePlanServiceClient(conn),
		task:     protos.NewComputeTaskServiceClient(conn),
		model:    protos.NewModelServiceClient(conn),
		event:    protos.NewEventServiceClient(conn),
	}, nil
}

// transportCredentials returns plaintext, or TLS (tlsConfig).
func transportCredentials(cfg *Config, mspid string) (credentials.TransportCredentials, error) {
	if !cfg.useTLS() {
		return insecure.NewCredentials(), nil
	}
	tc, err := tlsConfig(cfg, mspid)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(tc), nil
}

// tlsConfig is the TLS configuration of organization mspid's connection:
// the configured CA, the configured server name or else the host of the
// organization's address, and its client certificate.
func tlsConfig(cfg *Config, mspid string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(cfg.addrOf(mspid)); err == nil {
			tc.ServerName = host
		}
	}
	if cfg.TLSCA != "" {
		pem, err := os.ReadFile(cfg.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-ca %s: no PEM certificate", cfg.TLSCA)
		}
		tc.RootCAs = pool
	}
	if ck, ok := cfg.ClientCerts[mspid]; ok {
		cert, err := tls.LoadX509KeyPair(ck.Cert, ck.Key)
		if err != nil {
			return nil, fmt.Errorf("client-cert %s: %w", mspid, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ctx returns parent with the organization's headers.
func (c *orgClient) ctx(parent context.Context) context.Context {
	return metadata.AppendToOutgoingContext(parent, headerMSPID, c.mspid, headerChannel, c.channel)
}

func (c *orgClient) close() error { return c.conn.Close() }

// clients is one orgClient per organization of the run.
type clients map[string]*orgClient

func dialAll(cfg *Config) (clients, error) {
	cs := clients{}
	for _, org := range cfg.Orgs {
		if cs[org] != nil {
			continue
		}
		c, err := dial(cfg, org)
		if err != nil {
			_ = cs.close()
			return nil, err
		}
		cs[org] = c
	}
	return cs, nil
}

// connect opens every organization's connection (TCP, and TLS handshake),
// concurrently, each within timeout, and returns how long each took in
// milliseconds; a connection that fails is left to the phases, whose calls
// then fail and count as errors.
func (cs clients) connect(ctx context.Context, timeout time.Duration) (ms map[string]float64, failed []string) {
	ms = map[string]float64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for org, c := range cs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			start := time.Now()
			c.conn.Connect()
			for {
				st := c.conn.GetState()
				if st == connectivity.Ready {
					mu.Lock()
					ms[org] = float64(time.Since(start).Microseconds()) / 1000
					mu.Unlock()
					return
				}
				if st == connectivity.TransientFailure || !c.conn.WaitForStateChange(ctx, st) {
					mu.Lock()
					failed = append(failed, org)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(failed)
	return ms, failed
}

// targets maps every organization to the address its calls go to.
func (cs clients) targets() map[string]string {
	out := make(map[string]string, len(cs))
	for org, c := range cs {
		out[org] = c.addr
	}
	return out
}

func (cs clients) close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.close())
	}
	return errors.Join(errs...)
}
