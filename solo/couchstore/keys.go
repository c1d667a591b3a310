package couchstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Document ids. Every id starts with a lower-case letter that says what the
// document is; all of them are printable ASCII, so they never start with "_"
// (reserved by CouchDB) and never hold U+10FFFF (which pouchdb-server leaves
// out of _all_docs), and code-point order equals byte order.
const (
	statePrefix  = "k" // "k" + encodeKey(key): the state of one key
	stateEnd     = "l" // first id after every state id
	commitPrefix = "c" // "c" + 20 decimal digits: the journal entry of one commit
	commitEnd    = "d" // first id after every commit id
)

// encodeKey maps a key to a string of printable ASCII such that, for any two
// keys a and b, a < b (byte order) exactly when encodeKey(a) < encodeKey(b).
//
// Each byte is written as one to three characters. The code is prefix-free
// and monotone byte by byte, so concatenations keep the order of the
// original byte strings (a proper prefix still sorts first):
//
//	0x00-0x2f   "-" + two hex digits        ("-00" .. "-2f")
//	'0'-'8'     itself
//	0x39-0x40   "9" + one digit '0'-'7'     ('9' ':' ';' '<' '=' '>' '?' '@')
//	'A'-'Y'     itself
//	0x5a-0x60   "Z" + one digit '0'-'6'     ('Z' '[' '\' ']' '^' '_' '`')
//	'a'-'y'     itself
//	0x7a-0xff   "z" + two hex digits        ("z00" .. "z85")
//
// The lead characters '-' < digits < '9' < letters < 'Z' < 'a'-'y' < 'z'
// keep the groups in byte order, and lower-case hex digits sort like their
// values. Letters and digits other than 9, Z and z stay readable.
func encodeKey(key string) string {
	var b strings.Builder
	b.Grow(len(key) + len(key)/2)
	const hex = "0123456789abcdef"
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c <= 0x2f:
			b.WriteByte('-')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		case c <= '8':
			b.WriteByte(c)
		case c <= 0x40:
			b.WriteByte('9')
			b.WriteByte('0' + c - 0x39)
		case c <= 'Y':
			b.WriteByte(c)
		case c <= 0x60:
			b.WriteByte('Z')
			b.WriteByte('0' + c - 0x5a)
		case c <= 'y':
			b.WriteByte(c)
		default:
			d := c - 0x7a
			b.WriteByte('z')
			b.WriteByte(hex[d>>4])
			b.WriteByte(hex[d&15])
		}
	}
	return b.String()
}

var errBadEncoding = errors.New("couchstore: malformed encoded key")

// decodeKey inverts encodeKey.
func decodeKey(s string) (string, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' || c == 'z':
			if i+3 > len(s) {
				return "", errBadEncoding
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", errBadEncoding
			}
			if c == '-' {
				if v > 0x2f {
					return "", errBadEncoding
				}
				out = append(out, byte(v))
			} else {
				if v > 0xff-0x7a {
					return "", errBadEncoding
				}
				out = append(out, byte(v)+0x7a)
			}
			i += 3
		case c == '9' || c == 'Z':
			if i+2 > len(s) {
				return "", errBadEncoding
			}
			d := s[i+1]
			if d < '0' || (c == '9' && d > '7') || (c == 'Z' && d > '6') {
				return "", errBadEncoding
			}
			if c == '9' {
				out = append(out, 0x39+d-'0')
			} else {
				out = append(out, 0x5a+d-'0')
			}
			i += 2
		case c >= '0' && c <= '8', c >= 'A' && c <= 'Y', c >= 'a' && c <= 'y':
			out = append(out, c)
			i++
		default:
			return "", errBadEncoding
		}
	}
	return string(out), nil
}

// stateID is the document id of key's state document.
func stateID(key string) string { return statePrefix + encodeKey(key) }

// keyOfStateID inverts stateID.
func keyOfStateID(id string) (string, error) {
	if !strings.HasPrefix(id, statePrefix) {
		return "", fmt.Errorf("%w: %q is not a state document id", errBadEncoding, id)
	}
	k, err := decodeKey(id[len(statePrefix):])
	if err != nil {
		return "", fmt.Errorf("%w: %q", err, id)
	}
	return k, nil
}

// commitID is the document id of the journal entry of commit seq. Fixed
// width, so ids sort like sequence numbers.
func commitID(seq uint64) string { return fmt.Sprintf("%s%020d", commitPrefix, seq) }

// seqOfCommitID inverts commitID.
func seqOfCommitID(id string) (uint64, error) {
	if len(id) != len(commitPrefix)+20 || !strings.HasPrefix(id, commitPrefix) {
		return 0, fmt.Errorf("couchstore: %q is not a commit document id", id)
	}
	return strconv.ParseUint(id[len(commitPrefix):], 10, 64)
}

// dbName maps a channel name to a CouchDB database name: prefix followed by
// the channel with every byte outside [a-z0-9-] written as "_" and two hex
// digits. CouchDB names must match ^[a-z][a-z0-9_$()+/-]*$; Fabric channel
// names (^[a-z][a-z0-9.-]*$) map to readable names ("my.chan" -> "my_2echan").
func dbName(prefix, channel string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < len(channel); i++ {
		c := channel[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02x", c)
	}
	return b.String()
}

// validPrefix reports whether p can start a CouchDB database name.
func validPrefix(p string) bool {
	if p == "" || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_$()+-", c) >= 0) {
			return false
		}
	}
	return true
}
