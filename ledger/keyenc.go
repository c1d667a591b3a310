package ledger

import (
	"errors"
	"math"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Keys are short because on Fabric every byte of a key is carried in the
// block, validated and stored by each peer: the key attributes that the
// ledger builds are written in an alphabet of 64 ASCII characters listed
// in ASCII order, six bits per character, so that a fixed number of
// characters sorts as the number it encodes (a time of 20 decimal digits
// takes 11 characters, a UUID of 36 takes 22). The alphabet holds no
// U+0000 (the composite key separator), nothing that needs escaping in a
// CouchDB document id, and is valid UTF-8.
const sortable64 = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// sortableValue maps a character of sortable64 to its value, others to
// 0xff.
var sortableValue = func() (v [256]byte) {
	for i := range v {
		v[i] = 0xff
	}
	for i := range len(sortable64) {
		v[sortable64[i]] = byte(i)
	}
	return v
}()

// timeChars is the length of an encoded time (nanoseconds since the Unix
// epoch, 64 bits).
const timeChars = 11

// appendFixed appends v as n characters of sortable64, most significant
// first (v must fit in 6n bits).
func appendFixed(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		s := uint(6 * i)
		if s >= 64 {
			b = append(b, sortable64[0])
			continue
		}
		b = append(b, sortable64[(v>>s)&63])
	}
	return b
}

// parseFixed decodes n characters of sortable64 at the start of s.
func parseFixed(s string, n int) (uint64, bool) {
	if len(s) < n {
		return 0, false
	}
	var v uint64
	for i := range n {
		d := sortableValue[s[i]]
		if d == 0xff {
			return 0, false
		}
		v = v<<6 | uint64(d)
	}
	return v, true
}

// appendTime appends a time in nanoseconds (negative times, which no
// transaction has, sort as the epoch).
func appendTime(b []byte, nanos int64) []byte {
	return appendFixed(b, uint64(max(nanos, 0)), timeChars)
}

// appendCount appends a non-negative integer so that integers sort in
// order whatever their size: the number of digits, then the digits.
func appendCount(b []byte, v int) []byte {
	n := 1
	for x := uint64(v) >> 6; x > 0; x >>= 6 {
		n++
	}
	b = append(b, sortable64[n])
	return appendFixed(b, uint64(v), n)
}

// parseCount decodes an appendCount at the start of s and returns what
// follows it.
func parseCount(s string) (int, string, bool) {
	if s == "" {
		return 0, "", false
	}
	n := int(sortableValue[s[0]])
	if n == 0 || n > 11 {
		return 0, "", false
	}
	v, ok := parseFixed(s[1:], n)
	if !ok || v > 1<<62 {
		return 0, "", false
	}
	return int(v), s[1+n:], true
}

// Asset keys are UUIDs in canonical lower-case form (the contracts refuse
// others), written in 22 characters; any other key, which only the ledger's
// own tests store, is written whole after rawKeyMark. The two forms cannot
// be confused: rawKeyMark is not in sortable64. Compact keys sort as the
// UUIDs do.
const (
	uuidChars  = 22
	rawKeyMark = '~'
)

// appendKey appends the compact form of an asset key.
func appendKey(b []byte, key string) []byte {
	var u [16]byte
	if !parseUUID(key, &u) {
		b = append(b, rawKeyMark)
		return append(b, key...)
	}
	hi := uint64(u[0])<<56 | uint64(u[1])<<48 | uint64(u[2])<<40 | uint64(u[3])<<32 | uint64(u[4])<<24 | uint64(u[5])<<16 | uint64(u[6])<<8 | uint64(u[7])
	lo := uint64(u[8])<<56 | uint64(u[9])<<48 | uint64(u[10])<<40 | uint64(u[11])<<32 | uint64(u[12])<<24 | uint64(u[13])<<16 | uint64(u[14])<<8 | uint64(u[15])
	// 128 bits in 22 characters: 60 bits of hi, then its last 4 with the
	// first 2 of lo, then 60 bits of lo and 2 bits of padding.
	b = appendFixed(b, hi>>4, 10)
	b = appendFixed(b, (hi&15)<<2|lo>>62, 1)
	b = appendFixed(b, lo>>2&(1<<60-1), 10)
	return appendFixed(b, (lo&3)<<4, 1)
}

// keyAttr returns the compact form of an asset key.
func keyAttr(key string) string {
	var buf [uuidChars]byte
	return string(appendKey(buf[:0], key))
}

var errBadKeyAttr = errors.New("ledger: not a key written by appendKey")

// parseKey decodes a whole appendKey.
func parseKey(s string) (string, error) {
	if s != "" && s[0] == rawKeyMark {
		return s[1:], nil
	}
	if len(s) != uuidChars {
		return "", errBadKeyAttr
	}
	a, ok1 := parseFixed(s, 10)
	m, ok2 := parseFixed(s[10:], 1)
	c, ok3 := parseFixed(s[11:], 10)
	p, ok4 := parseFixed(s[21:], 1)
	if !ok1 || !ok2 || !ok3 || !ok4 || p&15 != 0 {
		return "", errBadKeyAttr
	}
	hi := a<<4 | m>>2
	lo := (m&3)<<62 | c<<2 | p>>4
	var x [36]byte
	const hexd = "0123456789abcdef"
	j := 0
	for i := range 16 {
		v := hi
		if i >= 8 {
			v = lo
		}
		by := byte(v >> (56 - 8*uint(i%8)))
		if i == 4 || i == 6 || i == 8 || i == 10 {
			x[j] = '-'
			j++
		}
		x[j], x[j+1] = hexd[by>>4], hexd[by&15]
		j += 2
	}
	return string(x[:]), nil
}

// parseUUID decodes a UUID in canonical lower-case form into u.
func parseUUID(s string, u *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		h, l := hexValue(s[i]), hexValue(s[i+1])
		if h > 15 || l > 15 {
			return false
		}
		u[j] = h<<4 | l
		j++
		i += 2
	}
	return true
}

func hexValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0xff
}

// validKeyText reports whether s may be part of a key the ledger builds:
// valid UTF-8 without U+0000 or U+10FFFF (what composite keys refuse).
func validKeyText(s string) bool { return ctCheckAttr(s) == nil }

// tsNanos returns a timestamp in nanoseconds since the Unix epoch, within
// [0, MaxInt64] (Timestamp.AsTime().UnixNano() overflows past 2262).
func tsNanos(ts *timestamppb.Timestamp) int64 {
	s := ts.GetSeconds()
	switch {
	case s < 0:
		return 0
	case s >= math.MaxInt64/1_000_000_000-1:
		return math.MaxInt64
	}
	return s*1e9 + int64(ts.GetNanos())
}
