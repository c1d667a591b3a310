package couchstore

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// writeSet is the write set of a journal entry. In JSON it is one base64
// string of a binary record per write (appendWrites), so that CouchDB
// parses and stores one string instead of an object per write: that is
// what costs its CPU in a large entry (a 450-write entry of 750 KB took a
// fifth less of the server's CPU as one string). Entries written before
// this encoding hold an array of {"k", "v", "d"} objects, which is still
// read. An older process that meets the string fails to decode the entry,
// loudly, rather than reading it as an entry without writes.
type writeSet []commitWrite

// Each write record: uvarint len(id), id, a kind byte, and for a put
// uvarint len(value), value.
const (
	recordPut    = 0
	recordDelete = 1
)

// appendWrites appends the binary records of ws to buf.
func appendWrites(buf []byte, ws []commitWrite) []byte {
	for _, w := range ws {
		buf = binary.AppendUvarint(buf, uint64(len(w.ID)))
		buf = append(buf, w.ID...)
		if w.Delete {
			buf = append(buf, recordDelete)
			continue
		}
		buf = append(buf, recordPut)
		buf = binary.AppendUvarint(buf, uint64(len(w.Value)))
		buf = append(buf, w.Value...)
	}
	return buf
}

var errBadRecord = errors.New("couchstore: malformed write record in a journal entry")

// parseWrites decodes the binary records of a write set. Values are copied
// out of b, so that the cache does not keep a whole entry alive for one
// value.
func parseWrites(b []byte) ([]commitWrite, error) {
	var out []commitWrite
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errBadRecord
		}
		field := b[k : k+int(n)]
		b = b[k+int(n):]
		return field, nil
	}
	for len(b) > 0 {
		id, err := next()
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return nil, errBadRecord
		}
		kind := b[0]
		b = b[1:]
		w := commitWrite{ID: string(id)}
		switch kind {
		case recordDelete:
			w.Delete = true
		case recordPut:
			v, err := next()
			if err != nil {
				return nil, err
			}
			w.Value = bytes.Clone(v)
			if w.Value == nil {
				w.Value = []byte{}
			}
		default:
			return nil, errBadRecord
		}
		out = append(out, w)
	}
	return out, nil
}

// MarshalJSON encodes ws as one base64 string of its records.
func (ws writeSet) MarshalJSON() ([]byte, error) {
	return appendWritesJSON(nil, ws), nil
}

// appendWritesJSON appends ws as a JSON string (base64 of its records).
func appendWritesJSON(buf []byte, ws []commitWrite) []byte {
	buf = append(buf, '"')
	buf = base64.StdEncoding.AppendEncode(buf, appendWrites(nil, ws))
	return append(buf, '"')
}

// UnmarshalJSON reads a write set as a base64 string of records, or as
// the array of objects of older entries.
func (ws *writeSet) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '[':
		var old []commitWrite
		if err := json.Unmarshal(b, &old); err != nil {
			return err
		}
		*ws = old
		return nil
	case len(b) > 0 && b[0] == '"':
		var raw []byte // encoding/json decodes base64 into []byte
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		w, err := parseWrites(raw)
		if err != nil {
			return err
		}
		*ws = w
		return nil
	case string(b) == "null":
		*ws = nil
		return nil
	}
	return fmt.Errorf("couchstore: journal entry write set: unexpected JSON %.20q", b)
}

// encodeEntry returns the JSON body of journal entry doc, built directly
// (the write set is the bulk of it and goes in as one base64 string).
func encodeEntry(doc *commitDoc) ([]byte, error) {
	buf := make([]byte, 0, 256+len(doc.Writes)*8+writesBytes(doc.Writes)*4/3)
	buf = append(buf, '{')
	sep := func() {
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
	}
	if len(doc.TxIDs) > 0 {
		tx, err := json.Marshal(doc.TxIDs)
		if err != nil {
			return nil, err
		}
		buf = append(buf, `"tx":`...)
		buf = append(buf, tx...)
	}
	if len(doc.Writes) > 0 {
		sep()
		buf = append(buf, `"w":`...)
		buf = appendWritesJSON(buf, doc.Writes)
	}
	if len(doc.Events) > 0 {
		ev, err := json.Marshal(doc.Events)
		if err != nil {
			return nil, err
		}
		sep()
		buf = append(buf, `"e":`...)
		buf = append(buf, ev...)
	}
	if doc.Nonce != "" {
		sep()
		buf = append(buf, `"n":`...)
		buf = strconv.AppendQuote(buf, doc.Nonce) // rand.Text: base32, no escapes
	}
	if doc.Applied != nil {
		sep()
		buf = append(buf, `"a":`...)
		buf = strconv.AppendUint(buf, *doc.Applied, 10)
	}
	return append(buf, '}'), nil
}
