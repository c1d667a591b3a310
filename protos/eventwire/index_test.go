package eventwire_test

import (
	"slices"
	"testing"

	"github.com/fedchain/orchestrator/protos/eventwire"
)

func TestIndex(t *testing.T) {
	x := eventwire.NewIndex()
	a := "0123abcd-ef01-4567-89ab-cdef01234567"
	b := "0123abcd-ef01-4567-8000-000000000000" // same first 8 bytes as a
	c := "ffffffff-ffff-4fff-bfff-ffffffffffff"
	x.Add(a, 7)
	x.Add(a, 7) // twice: one position
	x.Add(b, 9)
	x.Add(c, 3)
	x.Add("not-an-id", 1)
	for _, tt := range []struct {
		id   string
		want []uint64
	}{
		{a, []uint64{7, 9}},
		{b, []uint64{7, 9}},
		{c, []uint64{3}},
		{"00000000-0000-4000-8000-000000000000", nil},
		{"not-an-id", nil},
	} {
		if got := x.Candidates(tt.id); !slices.Equal(got, tt.want) {
			t.Errorf("Candidates(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestIsID(t *testing.T) {
	for id, want := range map[string]bool{
		"0123abcd-ef01-4567-89ab-cdef01234567": true,
		"0123ABCD-ef01-4567-89ab-cdef01234567": false,
		"0123abcd-ef01-4567-89ab-cdef0123456":  false,
		"0123abcd_ef01-4567-89ab-cdef01234567": false,
		"00000000-0000-4000-8000-00000000000G": false,
		"":                                     false,
	} {
		if got := eventwire.IsID(id); got != want {
			t.Errorf("IsID(%q) = %v", id, got)
		}
	}
}
