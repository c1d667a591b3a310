package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

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
	// cas maps MSP id -> its client CA and subject rule; nil: no client
	// certificate check (the mspid header is trusted).
	cas map[string]member
	// all holds every client CA, to tell an unknown CA from another
	// organization's.
	all *x509.CertPool
	now func() time.Time

	// Without a channel configuration, at most maxChannels distinct
	// channel names are accepted (0: no bound), so that callers cannot make
	// the server open stores without end.
	maxChannels int
	chanMu      sync.Mutex
	channels    map[string]struct{}

	// streams bounds the open streams of each MSP id.
	streams *streamCaps

	verified verifiedCache
}

func newIdentity(bind BindCaller, channels map[string][]string, cas map[string]member, all *x509.CertPool) *identity {
	id := &identity{bind: bind, cas: cas, all: all, now: time.Now, channels: map[string]struct{}{}}
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
		if err := id.checkAnyCert(ctx); err != nil {
			return nil, err
		}
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
		if err := id.checkAnyCert(ss.Context()); err != nil {
			return err
		}
		return handler(srv, ss)
	}
	ctx, err := id.check(ss.Context())
	if err != nil {
		return err
	}
	if id.streams != nil {
		release, err := id.streams.acquire(mspIDOf(ss.Context()))
		if err != nil {
			return err
		}
		defer release()
	}
	return handler(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

// mspIDOf returns the mspid header of a request that check accepted.
func mspIDOf(ctx context.Context) string {
	return metadata.ValueFromIncomingContext(ctx, HeaderMSPID)[0]
}

// check reads and verifies the caller. The errors follow the reference
// server: a missing mspid header is a bad request (OE0003,
// FailedPrecondition); a missing channel header is an Unknown error.
func (id *identity) check(ctx context.Context) (context.Context, error) {
	msps := metadata.ValueFromIncomingContext(ctx, HeaderMSPID)
	if len(msps) != 1 || msps[0] == "" {
		return nil, status.Error(codes.FailedPrecondition, "OE0003: missing or invalid header 'mspid'")
	}
	mspID := msps[0]
	chans := metadata.ValueFromIncomingContext(ctx, HeaderChannel)
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
	if id.members == nil {
		if err := id.admitChannel(channel); err != nil {
			return nil, err
		}
	}
	logging.AddFields(ctx, logging.Fields{"mspid", mspID, "channel", channel})
	return id.bind(ctx, mspID, channel), nil
}

// admitChannel accepts a channel name if it was seen before or the cap of
// distinct channels is not reached.
func (id *identity) admitChannel(channel string) error {
	if id.maxChannels <= 0 {
		return nil
	}
	id.chanMu.Lock()
	defer id.chanMu.Unlock()
	if _, ok := id.channels[channel]; ok {
		return nil
	}
	if len(id.channels) >= id.maxChannels {
		return status.Errorf(codes.ResourceExhausted, "channel %q refused: this server already serves its maximum of %d channels (--max-channels; configure the channels with --config to name them)", channel, id.maxChannels)
	}
	id.channels[channel] = struct{}{}
	return nil
}

// verifyCert checks that the client certificate of the connection is
// valid now, issued by the CA of mspID, and that its subject matches the
// rule of mspID. The TLS handshake asks for a certificate and checks that
// the client holds its key; the chain is checked here, so that a refusal is
// a gRPC status that says why.
func (id *identity) verifyCert(ctx context.Context, mspID string) error {
	chain := peerCertificates(ctx)
	if len(chain) == 0 {
		return status.Error(codes.Unauthenticated, "a client certificate is required (this server verifies callers by mutual TLS)")
	}
	leaf := chain[0]
	now := id.now()
	key := mspID + "\x00" + string(sha(leaf.Raw))
	if id.verified.ok(key, now) {
		return nil
	}
	if err := checkValidity(leaf, now); err != nil {
		return err
	}
	m, ok := id.cas[mspID]
	if !ok {
		return status.Errorf(codes.PermissionDenied, "OE0102: no client CA is configured for MSP id %q", mspID)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: m.pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		opts.Roots = id.all
		if _, err2 := leaf.Verify(opts); err2 != nil {
			return status.Errorf(codes.Unauthenticated, "client certificate %q refused: %s", leaf.Subject.String(), certProblem(err2))
		}
		return status.Errorf(codes.PermissionDenied, "OE0102: the client certificate %q is not issued by the CA of MSP id %q", leaf.Subject.String(), mspID)
	}
	if !m.subject.matches(leaf) {
		return status.Errorf(codes.PermissionDenied, "OE0102: the client certificate %q does not belong to MSP id %q: its members need %s", leaf.Subject.String(), mspID, m.subject)
	}
	id.verified.add(key, leaf.NotAfter, now)
	return nil
}

// checkAnyCert checks, with client certificates, that the connection's
// certificate is valid and issued by one of the client CAs (for the calls
// that need no MSP id: health, reflection).
func (id *identity) checkAnyCert(ctx context.Context) error {
	if id.cas == nil {
		return nil
	}
	chain := peerCertificates(ctx)
	if len(chain) == 0 {
		return status.Error(codes.Unauthenticated, "a client certificate is required (this server verifies callers by mutual TLS)")
	}
	now := id.now()
	if err := checkValidity(chain[0], now); err != nil {
		return err
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: id.all, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return status.Errorf(codes.Unauthenticated, "client certificate %q refused: %s", chain[0].Subject.String(), certProblem(err))
	}
	return nil
}

// checkValidity refuses a certificate outside its validity period.
func checkValidity(c *x509.Certificate, now time.Time) error {
	switch {
	case now.After(c.NotAfter):
		return status.Errorf(codes.Unauthenticated, "client certificate %q expired at %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return status.Errorf(codes.Unauthenticated, "client certificate %q is not valid before %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// certProblem says in a few words why x509 verification failed.
func certProblem(err error) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "it is not issued by any configured client CA"
	case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
		return "it is not a client certificate (extended key usage)"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "it or its issuer is outside its validity period"
	}
	return err.Error()
}

// matches reports whether c satisfies every field of the rule.
func (r SubjectRule) matches(c *x509.Certificate) bool {
	if len(r.Organization) > 0 && !anyIn(c.Subject.Organization, r.Organization) {
		return false
	}
	if len(r.OU) > 0 && !anyIn(c.Subject.OrganizationalUnit, r.OU) {
		return false
	}
	if r.SAN != "" {
		sans := append(append([]string{}, c.DNSNames...), c.EmailAddresses...)
		for _, u := range c.URIs {
			sans = append(sans, u.String())
		}
		ok := false
		for _, s := range sans {
			if m, _ := path.Match(r.SAN, s); m {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func anyIn(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// maxVerified bounds the cache of verified (MSP id, certificate) pairs:
// callers choose the certificates they present.
const maxVerified = 4096

// verifiedCache remembers the (MSP id, certificate) pairs that passed
// verifyCert, until the certificate expires.
type verifiedCache struct {
	mu sync.Mutex
	m  map[string]time.Time // key -> certificate NotAfter
}

func (c *verifiedCache) ok(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.m[key]
	return ok && !now.After(exp)
}

func (c *verifiedCache) add(key string, notAfter, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]time.Time{}
	}
	if len(c.m) >= maxVerified {
		// Drop the expired entries; if that frees nothing, start over (a
		// miss costs one verification, not a refusal).
		for k, exp := range c.m {
			if now.After(exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxVerified {
			clear(c.m)
		}
	}
	c.m[key] = notAfter
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
