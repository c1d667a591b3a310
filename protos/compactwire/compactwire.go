// Package compactwire is the compact form of the payloads that cross the
// boundary between a Fabric invoker and the orchestrator chaincode: the
// request, the answer and the chaincode event of a transaction. Fabric
// stores all three in every block, and a batch repeats itself a lot (one
// plan, one function, one owner and the same permissions for every task),
// so a RegisterTasks of 50 tasks shrinks about twelve times.
//
// A compact payload is a zero byte, a form byte, then the body:
//
//	0x00 0x00 body   the payload itself (stored: compression did not help)
//	0x00 0x01 body   one Zstandard frame (RFC 8878) of the payload, with
//	                 its content size and without checksum
//
// The zero byte cannot start a plain payload: a protobuf message never
// starts with it (field number 0 does not exist), and neither does a
// chaincode event payload (protos/eventwire: each event is a non-empty
// message, so its length prefix is never 0). A reader therefore tells the
// two forms apart by the first byte, and an older writer's plain payloads
// stay readable.
//
// Encodings are deterministic, because every endorser of a transaction
// must produce the same answer and event bytes: one library at the version
// go.mod pins, fixed options, no dictionary. TestGolden pins the bytes, so
// an upgrade of the library that changes them fails it (chaincode builds
// with different bytes would fail each other's endorsements).
package compactwire

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Marker is the first byte of a compact payload.
const Marker = 0x00

// The forms of a compact payload: its second byte.
const (
	formStored = 0x00
	formZstd   = 0x01
)

// MaxPlainBytes bounds a payload in compact form once decoded: the largest
// request the orchestrator facade accepts by default (its --max-msg-size).
// Encode leaves a larger payload plain, and Decode refuses a compact
// payload that would decode beyond it, so that a few bytes cannot ask a
// reader for unbounded memory.
const MaxPlainBytes = 16 << 20

// Errors of Decode, wrapped.
var (
	// ErrMalformed is a compact payload whose form is unknown or whose
	// body does not decode.
	ErrMalformed = errors.New("malformed compact payload")
	// ErrTooLarge is a compact payload that decodes to more than
	// MaxPlainBytes.
	ErrTooLarge = errors.New("compact payload decodes beyond the size limit")
)

// Codec encodes and decodes compact payloads. It is safe for concurrent
// use; one per process is enough (it keeps encoder and decoder state for
// reuse).
type Codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// NewCodec returns a Codec.
func NewCodec() (*Codec, error) {
	// Every option that shapes the output is set here, not left to the
	// library's defaults: the bytes must not move when a default does.
	// The encoder's concurrency only sizes its pool of encoders, each of
	// which EncodeAll resets, so it does not change the output.
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(8<<20),
		zstd.WithZeroFrames(true),
		zstd.WithSingleSegment(true),
		zstd.WithLowerEncoderMem(false))
	if err != nil {
		return nil, fmt.Errorf("compactwire: encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderMaxMemory(MaxPlainBytes),
		zstd.WithDecoderMaxWindow(MaxPlainBytes),
		zstd.WithDecoderConcurrency(0))
	if err != nil {
		return nil, fmt.Errorf("compactwire: decoder: %w", err)
	}
	return &Codec{enc: enc, dec: dec}, nil
}

// IsCompact reports whether b is in compact form.
func IsCompact(b []byte) bool { return len(b) > 0 && b[0] == Marker }

// Encode returns plain in compact form: compressed when that makes it
// smaller, stored otherwise. A payload larger than MaxPlainBytes is
// returned plain, as it is: a reader would refuse it compact.
func (c *Codec) Encode(plain []byte) []byte {
	if len(plain) > MaxPlainBytes {
		return plain
	}
	out := make([]byte, 2, 2+len(plain)/4+64)
	out[0] = Marker
	out[1] = formZstd
	out = c.enc.EncodeAll(plain, out)
	if len(out) >= 2+len(plain) {
		out = append(out[:2], plain...)
		out[1] = formStored
	}
	return out
}

// Decode returns the payload that b holds: b itself when it is plain, the
// decoded body when it is compact. It fails with ErrMalformed or
// ErrTooLarge.
func (c *Codec) Decode(b []byte) ([]byte, error) {
	if !IsCompact(b) {
		return b, nil
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: no form byte", ErrMalformed)
	}
	body := b[2:]
	switch b[1] {
	case formStored:
		if len(body) > MaxPlainBytes {
			return nil, fmt.Errorf("%w: %d bytes stored, the limit is %d", ErrTooLarge, len(body), MaxPlainBytes)
		}
		return body, nil
	case formZstd:
		out, err := c.dec.DecodeAll(body, nil)
		switch {
		case errors.Is(err, zstd.ErrDecoderSizeExceeded), errors.Is(err, zstd.ErrWindowSizeExceeded):
			return nil, fmt.Errorf("%w (%d bytes): %v", ErrTooLarge, MaxPlainBytes, err)
		case err != nil:
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if out == nil {
			out = []byte{}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: unknown form 0x%02x", ErrMalformed, b[1])
	}
}
