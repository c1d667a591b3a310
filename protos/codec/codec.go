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
// The load tool keeps gRPC's codec: with this one, its event stream
// replays were 10-15% slower (same CPU, longer waits; not understood), and
// the tool's costs are a client's, not the server's.
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
// grpc.ForceServerCodecV2.
type Codec struct {
	pool mem.BufferPool
}

var _ encoding.CodecV2 = (*Codec)(nil)

// New returns a codec with its own buffer pool, whose tiers are the powers
// of two from 256 B to 64 MiB.
func New() *Codec {
	exps := make([]uint8, 0, 19)
	for e := uint8(8); e <= 26; e++ {
		exps = append(exps, e)
	}
	pool, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		// Only exponents beyond the word size are refused.
		panic(fmt.Sprintf("codec: %v", err))
	}
	return &Codec{pool: pool}
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
	m := messageOf(v)
	if m == nil {
		return fmt.Errorf("codec: cannot decode into %T, which is no protobuf message", v)
	}
	if len(data) == 1 {
		return proto.Unmarshal(data[0].ReadOnlyData(), m)
	}
	buf := data.MaterializeToBuffer(c.pool)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
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
