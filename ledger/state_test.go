package ledger_test

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

func TestAssets(t *testing.T) {
	h := newHarness(t)
	a := &protos.Organization{Id: "A", Address: "http://a"}
	h.submit(func(l *ledger.Tx) error {
		if err := ledger.Put(l, ledger.OrganizationKind, "A", a); err != nil {
			return err
		}
		if err := ledger.Put(l, ledger.OrganizationKind, "B", &protos.Organization{Id: "B"}); err != nil {
			return err
		}
		return ledger.Delete(l, ledger.OrganizationKind, "B")
	})
	h.evaluate(func(l *ledger.Tx) error {
		got, err := ledger.Get[protos.Organization](l, ledger.OrganizationKind, "A")
		if err != nil || !proto.Equal(got, a) {
			t.Errorf("Get = %v, %v", got, err)
		}
		_, err = ledger.Get[protos.Organization](l, ledger.OrganizationKind, "B")
		if !errors.Is(err, orcerr.NotFound) || err.Error() != `OE0002: organization with key "B" not found` {
			t.Errorf("Get deleted = %v", err)
		}
		if _, ok, err := ledger.Lookup[protos.Organization](l, ledger.OrganizationKind, "B"); ok || err != nil {
			t.Errorf("Lookup deleted = %v, %v", ok, err)
		}
		many, err := ledger.GetMany[protos.Organization](l, ledger.OrganizationKind, []string{"B", "A", "A"})
		if err != nil || len(many) != 3 || many[0] != nil || !proto.Equal(many[1], a) || !proto.Equal(many[2], a) {
			t.Errorf("GetMany = %v, %v", many, err)
		}
		if _, err := ledger.GetAll[protos.Organization](l, ledger.OrganizationKind, []string{"A", "C"}); err == nil || err.Error() != `OE0002: organization with key "C" not found` {
			t.Errorf("GetAll = %v", err)
		}
		raw, err := ledger.GetRaw(l, ledger.OrganizationKind, "A")
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(a)
		if err != nil || string(raw) != string(want) {
			t.Errorf("GetRaw = %x, %v; want %x", raw, err, want)
		}
		if _, err := ledger.GetRaw(l, ledger.OrganizationKind, "B"); !errors.Is(err, orcerr.NotFound) {
			t.Errorf("GetRaw deleted = %v", err)
		}
		if _, err := ledger.GetRaw(l, ledger.OrganizationKind, "\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("GetRaw bad key = %v", err)
		}
		ok, err := ledger.Exists(l, ledger.DataManagerKind, "A")
		if ok || err != nil {
			t.Errorf("Exists in another kind = %v, %v", ok, err)
		}
		// keys with a U+0000 are not valid composite key attributes
		if _, err := ledger.Get[protos.Organization](l, ledger.OrganizationKind, "a\x00b"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad key: %v", err)
		}
		if _, err := ledger.GetMany[protos.Organization](l, ledger.OrganizationKind, []string{"a\x00b"}); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad key: %v", err)
		}
		if _, err := ledger.Exists(l, ledger.OrganizationKind, "a\x00b"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad key: %v", err)
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error {
		if err := ledger.Put(l, ledger.OrganizationKind, "a\x00", a); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad key: %v", err)
		}
		if err := ledger.Delete(l, ledger.OrganizationKind, "a\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad key: %v", err)
		}
		if err := l.PutIndex("i", "a\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad index attribute: %v", err)
		}
		if err := l.DelIndex("i", "a\x00"); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad index attribute: %v", err)
		}
		return nil
	})
}

func TestCorruptRecord(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		k, _ := ledger.OrganizationKind.Key("X")
		return l.PutState(k, []byte{0xff, 0xff, 0xff})
	})
	h.evaluate(func(l *ledger.Tx) error {
		if _, err := ledger.Get[protos.Organization](l, ledger.OrganizationKind, "X"); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("Get corrupt = %v", err)
		}
		if _, err := ledger.GetMany[protos.Organization](l, ledger.OrganizationKind, []string{"X", "Y"}); orcerr.KindOf(err) != orcerr.Internal {
			t.Errorf("GetMany corrupt = %v", err)
		}
		return nil
	})
}

func ts(sec int64) *timestamppb.Timestamp {
	return &timestamppb.Timestamp{Seconds: 1_700_000_000 + sec}
}

func TestPaging(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		for i := range 10 {
			if err := ledger.AddDataManager(l, &protos.DataManager{Key: string(rune('a' + i)), CreationDate: ts(int64(10 - i))}); err != nil {
				return err
			}
			if err := ledger.AddFunction(l, &protos.Function{Key: string(rune('a' + i)), CreationDate: ts(int64(i % 3))}); err != nil {
				return err
			}
		}
		for _, k := range []string{"c", "a", "h"} {
			f, err := ledger.GetFunction(l, k)
			if err != nil {
				return err
			}
			if err := ledger.IndexFunctionInPlan(l, "plan1", f); err != nil {
				return err
			}
			if err := ledger.IndexFunctionInPlan(l, "plan1", f); err != nil {
				return err
			}
		}
		return nil
	})
	all := func(query func(token string) ([]string, string, error)) []string {
		var out []string
		token := ""
		for range 20 {
			keys, next, err := query(token)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, keys...)
			if token = next; token == "" {
				return out
			}
		}
		t.Fatal("too many pages")
		return nil
	}
	h.evaluate(func(l *ledger.Tx) error {
		for _, size := range []int{0, 1, 3, 10, 11} {
			got := all(func(token string) ([]string, string, error) {
				dms, next, err := ledger.QueryDataManagers(l, token, size)
				var keys []string
				for _, dm := range dms {
					keys = append(keys, dm.GetKey())
				}
				if size > 0 && len(keys) > size {
					t.Errorf("page of %d > %d", len(keys), size)
				}
				return keys, next, err
			})
			if want := []string{"j", "i", "h", "g", "f", "e", "d", "c", "b", "a"}; !slices.Equal(got, want) {
				t.Errorf("size %d: data managers %v, want %v", size, got, want)
			}
			got = all(func(token string) ([]string, string, error) {
				fs, next, err := ledger.QueryFunctions(l, "", token, size)
				var keys []string
				for _, f := range fs {
					keys = append(keys, f.GetKey())
				}
				return keys, next, err
			})
			if want := []string{"a", "d", "g", "j", "b", "e", "h", "c", "f", "i"}; !slices.Equal(got, want) {
				t.Errorf("size %d: functions %v, want %v", size, got, want)
			}
			got = all(func(token string) ([]string, string, error) {
				fs, next, err := ledger.QueryFunctions(l, "plan1", token, size)
				var keys []string
				for _, f := range fs {
					keys = append(keys, f.GetKey())
				}
				return keys, next, err
			})
			if want := []string{"a", "h", "c"}; !slices.Equal(got, want) {
				t.Errorf("size %d: plan functions %v, want %v", size, got, want)
			}
		}
		// a token of another index is rejected
		_, next, err := ledger.QueryDataManagers(l, "", 2)
		if err != nil {
			return err
		}
		if _, _, err := ledger.QueryFunctions(l, "plan1", next, 2); orcerr.KindOf(err) != orcerr.BadRequest {
			t.Errorf("foreign token: %v", err)
		}
		if _, _, err := ledger.QueryFunctions(l, "", "@@", 2); orcerr.KindOf(err) != orcerr.BadRequest {
			t.Errorf("garbage token: %v", err)
		}
		return nil
	})
}

func TestPageFilterAndLoad(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		for i := range 250 {
			if err := l.PutIndexValue("n", []byte{byte(i)}, string(rune('0'+i/100)), string(rune('0'+i/10%10)), string(rune('0'+i%10))); err != nil {
				return err
			}
		}
		return nil
	})
	h.evaluate(func(l *ledger.Tx) error {
		// keep multiples of 7 only: a page spans several chunks
		var got []int
		loads := 0
		token := ""
		for pages := 0; ; pages++ {
			next, err := l.PageIndex("n", nil, ledger.Pager{Token: token, Size: 5,
				Load: func(chunk []ledger.Entry) error { loads++; return nil },
				Keep: func(e ledger.Entry) (bool, error) {
					v := int(e.Value[0])
					if v%7 != 0 {
						return false, nil
					}
					got = append(got, v)
					return true, nil
				}})
			if err != nil {
				return err
			}
			if token = next; token == "" {
				break
			}
		}
		if len(got) != 36 || got[0] != 0 || got[35] != 245 || loads == 0 {
			t.Errorf("kept %d values %v..., %d loads", len(got), got[:3], loads)
		}
		boom := errors.New("boom")
		if _, err := l.PageIndex("n", nil, ledger.Pager{Keep: func(ledger.Entry) (bool, error) { return false, boom }}); !errors.Is(err, boom) {
			t.Errorf("keep error: %v", err)
		}
		if _, err := l.PageIndex("n", nil, ledger.Pager{Load: func([]ledger.Entry) error { return boom }}); !errors.Is(err, boom) {
			t.Errorf("load error: %v", err)
		}
		if _, err := l.PageIndex("n", []string{"\x00"}, ledger.Pager{}); orcerr.KindOf(err) != orcerr.InvalidAsset {
			t.Errorf("bad prefix: %v", err)
		}
		return nil
	})
}

func TestOrganizationsAndSamples(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		for i, id := range []string{"Z", "A", "M"} {
			if err := ledger.AddOrganization(l, &protos.Organization{Id: id, CreationDate: ts(int64(i))}); err != nil {
				return err
			}
		}
		for i, k := range []string{"s3", "s1", "s2"} {
			if err := ledger.AddDataSample(l, &protos.DataSample{Key: k, DataManagerKeys: []string{"dm1"}, CreationDate: ts(int64(i))}); err != nil {
				return err
			}
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error {
		ds, err := ledger.GetDataSample(l, "s1")
		if err != nil {
			return err
		}
		old := ds.GetDataManagerKeys()
		ds.DataManagerKeys = []string{"dm2"}
		if err := ledger.UpdateDataSample(l, ds, old); err != nil {
			return err
		}
		keys, err := ledger.DataSampleKeysByManager(l, "dm1")
		if err != nil || !slices.Equal(keys, []string{"s3", "s2"}) {
			t.Errorf("dm1 samples %v, %v (own writes)", keys, err)
		}
		return nil
	})
	h.evaluate(func(l *ledger.Tx) error {
		orgs, err := ledger.AllOrganizations(l)
		if err != nil || len(orgs) != 3 || orgs[0].GetId() != "Z" || orgs[2].GetId() != "M" {
			t.Errorf("organizations %v, %v", orgs, err)
		}
		if ok, _ := ledger.OrganizationExists(l, "A"); !ok {
			t.Error("A does not exist")
		}
		if o, err := ledger.GetOrganization(l, "M"); err != nil || o.GetId() != "M" {
			t.Errorf("GetOrganization = %v, %v", o, err)
		}
		for dm, want := range map[string][]string{"dm1": {"s3", "s2"}, "dm2": {"s1"}} {
			keys, err := ledger.DataSampleKeysByManager(l, dm)
			if err != nil || !slices.Equal(keys, want) {
				t.Errorf("%s samples %v, %v; want %v", dm, keys, err, want)
			}
		}
		dss, err := ledger.GetDataSamples(l, []string{"s2", "s1"})
		if err != nil || dss[0].GetKey() != "s2" || dss[1].GetKey() != "s1" {
			t.Errorf("GetDataSamples = %v, %v", dss, err)
		}
		got, next, err := ledger.QueryDataSamples(l, []string{"s2", "s3", "s2", "nope"}, "", 1)
		if err != nil || len(got) != 1 || got[0].GetKey() != "s3" || next == "" {
			t.Fatalf("QueryDataSamples = %v, %q, %v", got, next, err)
		}
		got, next, err = ledger.QueryDataSamples(l, []string{"s2", "s3", "s2", "nope"}, next, 1)
		if err != nil || len(got) != 1 || got[0].GetKey() != "s2" || next != "" {
			t.Errorf("QueryDataSamples page 2 = %v, %q, %v", got, next, err)
		}
		if _, err := ledger.GetFailureReport(l, "s1"); !errors.Is(err, orcerr.NotFound) {
			t.Errorf("GetFailureReport = %v", err)
		}
		return nil
	})
}

func TestDataSampleHasManager(t *testing.T) {
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		return ledger.AddDataSample(l, &protos.DataSample{Key: "s1", DataManagerKeys: []string{"dm1", "dm2"},
			Owner: "A", TestOnly: true, Checksum: "c", CreationDate: ts(7)})
	})
	h.evaluate(func(l *ledger.Tx) error {
		for dm, want := range map[string]bool{"dm1": true, "dm2": true, "dm": false, "dm3": false, "": false} {
			got, err := ledger.DataSampleHasManager(l, "s1", dm)
			if err != nil || got != want {
				t.Errorf("DataSampleHasManager(s1, %q) = %v, %v; want %v", dm, got, err, want)
			}
		}
		if _, err := ledger.DataSampleHasManager(l, "nope", "dm1"); !errors.Is(err, orcerr.NotFound) {
			t.Errorf("unknown sample: %v", err)
		}
		_, want := ledger.GetDataSample(l, "nope")
		if _, err := ledger.DataSampleHasManager(l, "nope", "dm1"); err == nil || err.Error() != want.Error() {
			t.Errorf("unknown sample: %v; want %v", err, want)
		}
		return nil
	})
	h.submit(func(l *ledger.Tx) error {
		// Own writes are seen, and a truncated record is an error.
		if err := ledger.AddDataSample(l, &protos.DataSample{Key: "s2", DataManagerKeys: []string{"dm9"}, CreationDate: ts(8)}); err != nil {
			return err
		}
		if ok, err := ledger.DataSampleHasManager(l, "s2", "dm9"); !ok || err != nil {
			t.Errorf("own write: %v, %v", ok, err)
		}
		sk, _ := ledger.DataSampleKind.Key("s3")
		if err := l.PutState(sk, []byte{0x12, 0x05, 'd'}); err != nil {
			return err
		}
		if _, err := ledger.DataSampleHasManager(l, "s3", "dm9"); !errors.Is(err, orcerr.Internal) {
			t.Errorf("truncated record: %v", err)
		}
		return nil
	})
}

// TestDataSampleRecords checks that a batch read answers the records in
// order, nil for an unknown sample and for an invalid key, which it leaves
// to the caller to report.
func TestDataSampleRecords(t *testing.T) {
	if _, err := ledger.DataSampleKind.Key("bad\x00key"); err == nil {
		t.Fatal("bad\\x00key is a valid key: the test needs an invalid one")
	}
	h := newHarness(t)
	h.submit(func(l *ledger.Tx) error {
		return ledger.AddDataSample(l, &protos.DataSample{Key: "s1", DataManagerKeys: []string{"dm1"}, CreationDate: ts(1)})
	})
	tests := []struct {
		keys []string
		want []bool // record present
	}{
		{[]string{"s1"}, []bool{true}},
		{[]string{"nope", "s1"}, []bool{false, true}},
		{[]string{"bad\x00key", "s1", "nope"}, []bool{false, true, false}},
		{[]string{"s1", "bad\x00key"}, []bool{true, false}},
	}
	for _, tt := range tests {
		h.evaluate(func(l *ledger.Tx) error {
			recs, err := ledger.DataSampleRecords(l, tt.keys)
			if err != nil {
				t.Fatalf("%q: %v", tt.keys, err)
			}
			if len(recs) != len(tt.keys) {
				t.Fatalf("%q: %d records", tt.keys, len(recs))
			}
			for i, b := range recs {
				if (b != nil) != tt.want[i] {
					t.Errorf("%q: record %d present=%v", tt.keys, i, b != nil)
				}
				if b != nil {
					if ok, err := ledger.DataSampleRecordHasManager(tt.keys[i], b, "dm1"); !ok || err != nil {
						t.Errorf("%q: record %d has dm1: %v, %v", tt.keys, i, ok, err)
					}
				}
			}
			return nil
		})
	}
}
