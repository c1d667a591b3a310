package couchstore

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fedchain/orchestrator/solo/store/storetest"
)

// needCouchDB is the message of the CouchDB-backed tests when they cannot run.
const needCouchDB = "CouchDB tests need -tags couchdb and COUCHDB_URL (make test does both; " +
	"or: scripts/couchdb/with-couchdb.sh go test -tags couchdb ./solo/couchstore/...)"

func TestEncodeKeyRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	keys := append(slices.Clone(storetest.AwkwardKeys), "", string(all), "9Zz-", "\xff\xfe")
	for _, k := range keys {
		enc := encodeKey(k)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x21 || enc[i] > 0x7e || enc[i] == '_' || enc[i] == '/' || enc[i] == '%' {
				t.Fatalf("encodeKey(%q) = %q holds %q", k, enc, enc[i])
			}
		}
		got, err := decodeKey(enc)
		if err != nil || got != k {
			t.Fatalf("decodeKey(encodeKey(%q)) = %q, %v", k, got, err)
		}
		if id := stateID(k); id[0] == '_' {
			t.Fatalf("state id %q starts with _", id)
		}
	}
}

func TestEncodeKeyKeepsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Bytes from a small alphabet around every group boundary, so that
	// neighbours and prefixes are frequent; and random UTF-8.
	edges := []byte{0, 1, 0x2f, '0', '8', '9', '@', 'A', 'Y', 'Z', '_', '`', 'a', 'y', 'z', 0x7f, 0x80, 0xf4, 0xff}
	var keys []string
	for range 3000 {
		n := r.IntN(6)
		b := make([]byte, n)
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = edges[r.IntN(len(edges))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		keys = append(keys, string(b))
		var s strings.Builder
		for range r.IntN(5) {
			s.WriteRune(rune(r.IntN(utf8.MaxRune + 1)))
		}
		keys = append(keys, s.String())
	}
	keys = append(keys, storetest.AwkwardKeys...)
	for i := range keys {
		a, b := keys[i], keys[(i*7919+1)%len(keys)]
		if got, want := strings.Compare(encodeKey(a), encodeKey(b)), strings.Compare(a, b); got != want {
			t.Fatalf("order of %q, %q: encoded %d, bytes %d (%q, %q)", a, b, got, want, encodeKey(a), encodeKey(b))
		}
	}
	byBytes := slices.Clone(keys)
	slices.Sort(byBytes)
	byEnc := slices.Clone(keys)
	slices.SortFunc(byEnc, func(a, b string) int { return strings.Compare(encodeKey(a), encodeKey(b)) })
	if !slices.Equal(byBytes, byEnc) {
		t.Fatal("sorting by encoded key differs from sorting by bytes")
	}
}

func TestDecodeKeyRejects(t *testing.T) {
	for _, s := range []string{"-", "-3", "-30", "-zz", "z", "z86", "9", "98", "Z7", "_", "~", " ", "z0g"} {
		if got, err := decodeKey(s); err == nil {
			t.Errorf("decodeKey(%q) = %q, want error", s, got)
		}
	}
}

func TestCommitID(t *testing.T) {
	for _, seq := range []uint64{0, 1, 9, 10, 1 << 40, ^uint64(0)} {
		got, err := seqOfCommitID(commitID(seq))
		if err != nil || got != seq {
			t.Fatalf("seqOfCommitID(commitID(%d)) = %d, %v", seq, got, err)
		}
	}
	if commitID(9) >= commitID(10) || commitID(^uint64(0)) >= commitEnd || commitID(0) <= commitPrefix {
		t.Fatal("commit ids out of order")
	}
	if stateID("") <= commitEnd || stateID("\xff\xff") >= stateEnd {
		t.Fatal("state ids overlap the journal or exceed stateEnd")
	}
}

func TestDBName(t *testing.T) {
	tests := []struct{ channel, want string }{
		{"mychannel", "fedchain_mychannel"},
		{"my.chan-1", "fedchain_my_2echan-1"},
		{"a_2e", "fedchain_a_5f2e"},
		{"Up/x", "fedchain__55p_2fx"},
	}
	for _, tc := range tests {
		if got := dbName(DefaultDBPrefix, tc.channel); got != tc.want {
			t.Errorf("dbName(%q) = %q, want %q", tc.channel, got, tc.want)
		}
	}
	for p, ok := range map[string]bool{"fedchain_": true, "a": true, "x$()+-_9": true, "": false, "_x": false, "9a": false, "A": false, "a/b": false} {
		if validPrefix(p) != ok {
			t.Errorf("validPrefix(%q) = %v", p, !ok)
		}
	}
}
