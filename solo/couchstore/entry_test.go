package couchstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEntryEncoding(t *testing.T) {
	applied := uint64(41)
	tests := []struct {
		name string
		doc  commitDoc
	}{
		{"writes and events", commitDoc{
			TxIDs: []string{"tx1", "tx\"2"},
			Writes: writeSet{
				{ID: "ka", Value: []byte("v")},
				{ID: "kb", Delete: true},
				{ID: "kempty", Value: []byte{}},
				{ID: "kbin", Value: []byte{0, 0xff, '"', '\\', 0x80}},
				{ID: "k" + strings.Repeat("x", 300), Value: []byte(strings.Repeat("y", 70000))},
			},
			Events:  []commitEvent{{TxID: "tx1", Name: "ev", Payload: []byte{1, 2}}},
			Nonce:   "ABC234",
			Applied: &applied,
		}},
		{"events only", commitDoc{Events: []commitEvent{{Name: "ev"}}, Nonce: "N", Applied: &applied}},
		{"deletes only", commitDoc{Writes: writeSet{{ID: "ka", Delete: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := encodeEntry(&tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			var got commitDoc
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if !reflect.DeepEqual(got, tt.doc) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.doc)
			}
			// The same as encoding/json gives through MarshalJSON.
			std, err := json.Marshal(&tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			var again commitDoc
			if err := json.Unmarshal(std, &again); err != nil || !reflect.DeepEqual(again, tt.doc) {
				t.Errorf("through encoding/json: %+v, %v", again, err)
			}
		})
	}
}

// Entries written before the binary write set hold an array of objects.
func TestEntryOlderWriteSet(t *testing.T) {
	var doc commitDoc
	if err := json.Unmarshal([]byte(`{"w":[{"k":"ka","v":"dg=="},{"k":"kb","d":true}],"n":"x"}`), &doc); err != nil {
		t.Fatal(err)
	}
	want := writeSet{{ID: "ka", Value: []byte("v")}, {ID: "kb", Delete: true}}
	if !reflect.DeepEqual(doc.Writes, want) {
		t.Errorf("older write set: %+v, want %+v", doc.Writes, want)
	}
}

func TestEntryMalformedWriteSet(t *testing.T) {
	good := appendWrites(nil, []commitWrite{{ID: "ka", Value: []byte("value")}})
	for name, b := range map[string][]byte{
		"truncated value": good[:len(good)-1],
		"truncated id":    good[:2],
		"no kind":         good[:3],
		"unknown kind":    append(good[:3:3], 7),
		"length overflow": {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, err := parseWrites(b); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: %v, want errBadRecord", name, err)
		}
	}
	var doc commitDoc
	if err := json.Unmarshal([]byte(`{"w":{"k":1}}`), &doc); err == nil {
		t.Error("an object as write set decoded without error")
	}
}
