package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"regexp"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Request headers, as in the reference API.
const (
	HeaderMSPID   = "mspid"
	HeaderChannel = "channel"
)

// BindCaller stores the verified caller of a request in its context, for
// the services (the facade's WithCaller).
type BindCaller func(ctx context.Context, mspID, channel string) context.Context

var channelName = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,248}$`)

func validChannel(s string) bool { return channelName.MatchString(s) }

// identity checks the mspid and channel headers of every API call.
type identity struct {
	bind BindCaller
	// members maps channel -> set of MSP ids; nil: every channel is open.
	members map[string]map[string]bool
	// cas maps MSP id -> the pool of its client CA; nil: no client
	// certificate check (the mspid header is trusted).
	cas map[string]*x509.CertPool

	verified sync.Map // [sha256(cert DER), mspid] -> struct{}
}

func newIdentity(bind BindCaller, channels map[string][]string, cas map[string]*x509.CertPool) *identity {
	id := &identity{bind: bind, cas: cas}
	if len(channels) > 0 {
		id.members = map[string]map[string]bool{}
		for ch, orgs := range channels {
			set := map[string]bool{}
			for _, o := range orgs {
				set[o] = true
			}
			id.members[ch] = set
		}
	}
	return id
}

// exempt reports whether a method needs no caller identity (health checks,
// reflection).
func exempt(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.") || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

func (id *identity) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if exempt(info.FullMethod) {
		return handler(ctx, req)
	}
	ctx, err := id.check(ctx)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (id *identity) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if exempt(info.FullMethod) {
		return handler(srv, ss)
	}
	ctx, err := id.check(ss.Context())
	if err != nil {
		return err
	}
	return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

// check reads and verifies the caller. The errors follow the reference
// server: a missing mspid header is a bad request (OE0003,
// FailedPrecondition); a missing channel header is an Unknown error.
func (id *identity) check(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	msps := md.Get(HeaderMSPID)
	if len(msps) != 1 || msps[0] == "" {
		return nil, status.Error(codes.FailedPrecondition, "OE0003: missing or invalid header 'mspid'")
	}
	mspID := msps[0]
	chans := md.Get(HeaderChannel)
	if len(chans) != 1 || chans[0] == "" {
		return nil, status.Error(codes.Unknown, "missing or invalid header 'channel'")
	}
	channel := chans[0]
	if !validChannel(channel) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid channel name %q: want [a-z][a-z0-9.-]*, at most 249 characters", channel)
	}
	if id.cas != nil {
		if err := id.verifyCert(ctx, mspID); err != nil {
			return nil, err
		}
	}
	if id.members != nil && !id.members[channel][mspID] {
		return nil, status.Errorf(codes.PermissionDenied, "OE0102: organization %q has no access to channel %q", mspID, channel)
	}
	logging.AddFields(ctx, logging.Fields{"mspid", mspID, "channel", channel})
	return id.bind(ctx, mspID, channel), nil
}

// verifyCert checks that the client certificate of the connection was
// issued by the CA of mspID.
func (id *identity) verifyCert(ctx context.Context, mspID string) error {
	chain := peerCertificates(ctx)
	if len(chain) == 0 {
		return status.Error(codes.PermissionDenied, "OE0102: a client certificate is required")
	}
	leaf := chain[0]
	key := string(mspID) + "\x00" + string(sha(leaf.Raw))
	if _, ok := id.verified.Load(key); ok {
		return nil
	}
	pool, ok := id.cas[mspID]
	if !ok {
		return status.Errorf(codes.PermissionDenied, "OE0102: no client CA is configured for MSP id %q", mspID)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return status.Errorf(codes.PermissionDenied, "OE0102: the client certificate does not belong to MSP id %q", mspID)
	}
	id.verified.Store(key, struct{}{})
	return nil
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// peerCertificates returns the verified client certificate chain of the
// request's connection, leaf first.
func peerCertificates(ctx context.Context) []*x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return nil
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil
	}
	return ti.State.PeerCertificates
}

// ctxStream replaces the context of a server stream.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }
