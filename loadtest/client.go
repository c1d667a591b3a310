package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/fedchain/orchestrator/protos"
)

// Header names of the caller organization and the channel.
const (
	headerMSPID   = "mspid"
	headerChannel = "channel"
)

// orgClient is the API as seen by one organization: its own connection (its
// own client certificate under mutual TLS) and its headers.
type orgClient struct {
	mspid   string
	channel string
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

// dial opens the connection of organization mspid (lazily: the first call
// connects).
func dial(cfg *Config, mspid string) (*orgClient, error) {
	creds, err := transportCredentials(cfg, mspid)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(cfg.Addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvBytes)),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Addr, err)
	}
	return &orgClient{
		mspid:    mspid,
		channel:  cfg.Channel,
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

// transportCredentials returns plaintext, or TLS with the configured CA,
// server name and the client certificate of mspid.
func transportCredentials(cfg *Config, mspid string) (credentials.TransportCredentials, error) {
	if !cfg.useTLS() {
		return insecure.NewCredentials(), nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(cfg.Addr); err == nil {
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
	return credentials.NewTLS(tc), nil
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

func (cs clients) close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.close())
	}
	return errors.Join(errs...)
}
