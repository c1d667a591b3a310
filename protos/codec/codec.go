// Package codec is the gRPC codec of the orchestrator's server: protobuf,
// as gRPC's default, but with buffers sized to the message.
//
// gRPC's default codec takes its buffers from a pool whose tiers jump from
// 32 KiB to 1 MiB, and the pool zeroes a buffer's whole capacity when it
// hands it out. A 50-task registration's answer (30 to 60 KiB) then
// costs a mebibyte of zeroing, and, while the heap is small (a server that
// just started), a fresh mebibyte allocation, which shortens the garbage
// collector's cycles, which empty the pool again. Here the tiers are every
// power of two, so a buffer is at most twice its message.
//
// A client may also decode with the unmarshallers that make generate writes
// next to the messages (vtprotobuf's UnmarshalVT, WithGeneratedDecoding):
// the load tool does, since decoding what it reads was most of its cost.
package codec

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// Name is the codec's name on the wire (content-subtype): the same as
// gRPC's protobuf codec, since the encoding is the same.
const Name = "proto"

// smallMessage is the size below which a message is encoded into a buffer
// of its own rather than a pooled one (as gRPC does).
const smallMessage = 1 << 10

// Codec is a gRPC CodecV2 for protobuf messages, for
// grpc.ForceServerCodecV2 (or grpc.ForceCodecV2 on a client).
type Codec struct {
	pool      mem.BufferPool
	generated bool
}

var _ encoding.CodecV2 = (*Codec)(nil)

// Option configures New.
type Option func(*Codec)

// WithGeneratedDecoding makes Unmarshal decode the API's messages with
// their generated unmarshallers (UnmarshalVT, written by make generate)
// instead of the protobuf runtime's table-driven decoder, which goes
// through reflection for oneofs and maps: under callgrind, a page of 100
// tasks takes half the instructions and an event holding a task a
// quarter. Other messages are decoded as before. The generated code does
// not check that strings are valid UTF-8, as proto3 asks of a decoder: this
// is for a client reading its server, not for a server reading requests.
func WithGeneratedDecoding() Option {
	return func(c *Codec) { c.generated = true }
}

// generatedDecoder is a message with a generated unmarshaller, which, as
// the generated code does, merges into the message.
type generatedDecoder interface {
	Reset()
	UnmarshalVT([]byte) error
}

// New returns a codec with its own buffer pool, whose tiers are the powers
// of two from 256 B to 64 MiB.
func New(opts ...Option) *Codec {
	exps := make([]uint8, 0, 19)
	for e := uint8(8); e <= 26; e++ {
		exps = append(exps, e)
	}
	pool, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		// Only exponents beyond the word size are refused.
		panic(fmt.Sprintf("codec: %v", err))
	}
	c := &Codec{pool: pool}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns Name.
func (c *Codec) Name() string { return Name }

// Marshal encodes v, a protobuf message.
func (c *Codec) Marshal(v any) (mem.BufferSlice, error) {
	m := messageOf(v)
	if m == nil {
		return nil, fmt.Errorf("codec: cannot encode %T, which is no protobuf message", v)
	}
	size := proto.Size(m)
	// UseCachedSize reuses the sizes that proto.Size just computed.
	opts := proto.MarshalOptions{UseCachedSize: true}
	if size < smallMessage {
		b, err := opts.MarshalAppend(make([]byte, 0, size), m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	buf := c.pool.Get(size)
	b, err := opts.MarshalAppend((*buf)[:0], m)
	if err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	*buf = b
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}

// Unmarshal decodes data into v, a protobuf message. The decoded message
// does not refer to data, which gRPC frees afterwards.
func (c *Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if len(data) == 1 {
		return c.decode(data[0].ReadOnlyData(), v)
	}
	buf := data.MaterializeToBuffer(c.pool)
	defer buf.Free()
	return c.decode(buf.ReadOnlyData(), v)
}

// decode decodes b into v. gRPC hands the codec its messages as values of
// any type: which decoder fits is known only by looking at v.
func (c *Codec) decode(b []byte, v any) error {
	if g, ok := v.(generatedDecoder); ok && c.generated {
		g.Reset()
		return g.UnmarshalVT(b)
	}
	m := messageOf(v)
	if m == nil {
		return fmt.Errorf("codec: cannot decode into %T, which is no protobuf message", v)
	}
	return proto.Unmarshal(b, m)
}

// messageOf returns v as a protobuf message (API v2), or nil.
func messageOf(v any) proto.Message {
	switch m := v.(type) {
	case protoadapt.MessageV2:
		return m
	case protoadapt.MessageV1:
		return protoadapt.MessageV2Of(m)
	}
	return nil
}
