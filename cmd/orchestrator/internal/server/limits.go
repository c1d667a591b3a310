package server

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// DefaultPageSize is the page size of a query that asks for none (as in the
// reference server).
const DefaultPageSize = 50

// limits applies the request limits that are not the transport's: the page
// size of queries and a deadline for calls that come without one.
type limits struct {
	maxPageSize uint32
	timeout     time.Duration

	fields sync.Map // protoreflect.FullName -> protoreflect.FieldDescriptor (nil: none)
}

func (l *limits) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if m, ok := req.(proto.Message); ok {
		if err := l.checkPage(m.ProtoReflect()); err != nil {
			return nil, err
		}
	}
	if _, ok := ctx.Deadline(); !ok && l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	return handler(ctx, req)
}

// checkPage sets the default page size of a query message and rejects one
// above the maximum.
func (l *limits) checkPage(m protoreflect.Message) error {
	fd := l.pageField(m.Descriptor())
	if fd == nil {
		return nil
	}
	n := uint32(m.Get(fd).Uint())
	switch {
	case n == 0:
		m.Set(fd, protoreflect.ValueOfUint32(DefaultPageSize))
	case l.maxPageSize > 0 && n > l.maxPageSize:
		return status.Errorf(codes.InvalidArgument, "page_size %d exceeds the maximum page size %d", n, l.maxPageSize)
	}
	return nil
}

func (l *limits) pageField(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	if v, ok := l.fields.Load(md.FullName()); ok {
		fd, _ := v.(protoreflect.FieldDescriptor)
		return fd
	}
	fd := md.Fields().ByName("page_size")
	if fd != nil && fd.Kind() != protoreflect.Uint32Kind {
		fd = nil
	}
	if fd == nil {
		l.fields.Store(md.FullName(), nil)
	} else {
		l.fields.Store(md.FullName(), fd)
	}
	return fd
}

// streamCaps bounds the streams (event subscriptions) that each MSP id
// holds open at once. Its map holds only the MSP ids with an open stream.
type streamCaps struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

func newStreamCaps(max int) *streamCaps {
	if max <= 0 {
		return nil
	}
	return &streamCaps{max: max, open: map[string]int{}}
}

// acquire takes a stream slot of mspID, or refuses with ResourceExhausted.
// The returned function gives the slot back.
func (c *streamCaps) acquire(mspID string) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[mspID] >= c.max {
		return nil, status.Errorf(codes.ResourceExhausted, "organization %q already has %d open streams, the maximum (--max-streams-per-org): close one first", mspID, c.max)
	}
	c.open[mspID]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.open[mspID]--; c.open[mspID] <= 0 {
			delete(c.open, mspID)
		}
	}, nil
}

// limitListener accepts at most cap(sem) connections at once: one more is
// closed as soon as it is accepted (its client gets Unavailable and may
// retry), so that connections, each with its streams and buffers, stay
// bounded.
type limitListener struct {
	net.Listener
	sem     chan struct{}
	refused atomic.Int64
}

func newLimitListener(l net.Listener, max int) net.Listener {
	if max <= 0 {
		return l
	}
	return &limitListener{Listener: l, sem: make(chan struct{}, max)}
}

// Accept returns the next connection within the cap.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.sem })}, nil
		default:
			l.refused.Add(1)
			c.Close()
		}
	}
}

// limitConn gives its slot back when closed.
type limitConn struct {
	net.Conn
	release func()
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
