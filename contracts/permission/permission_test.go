package permission_test

import (
	"slices"
	"testing"

	"github.com/fedchain/orchestrator/contracts/permission"
	"github.com/fedchain/orchestrator/protos"
)

func perm(public bool, ids ...string) *protos.Permission {
	return &protos.Permission{Public: public, AuthorizedIds: ids}
}

func TestUnionIntersect(t *testing.T) {
	tests := []struct {
		name         string
		x, y         *protos.Permission
		union, inter *protos.Permission
	}{
		{"both private", perm(false, "b", "a"), perm(false, "c", "a"), perm(false, "b", "a", "c"), perm(false, "a")},
		{"x public", perm(true), perm(false, "c", "a"), perm(true), perm(false, "c", "a")},
		{"y public", perm(false, "b"), perm(true, "z"), perm(true), perm(false, "b")},
		{"both public", perm(true, "a"), perm(true, "b"), perm(true), perm(true)},
		{"disjoint", perm(false, "a"), perm(false, "b"), perm(false, "a", "b"), perm(false)},
		{"duplicates", perm(false, "a", "a"), perm(false, "a"), perm(false, "a"), perm(false, "a")},
	}
	eq := func(a, b *protos.Permission) bool {
		return a.GetPublic() == b.GetPublic() && slices.Equal(a.GetAuthorizedIds(), b.GetAuthorizedIds())
	}
	for _, tt := range tests {
		if got := permission.Union(tt.x, tt.y); !eq(got, tt.union) {
			t.Errorf("%s: union %v, want %v", tt.name, got, tt.union)
		}
		if got := permission.Intersect(tt.x, tt.y); !eq(got, tt.inter) {
			t.Errorf("%s: intersection %v, want %v", tt.name, got, tt.inter)
		}
		xs := &protos.Permissions{Process: tt.x, Download: tt.y}
		ys := &protos.Permissions{Process: tt.y, Download: tt.x}
		if u := permission.UnionPermissions(xs, ys); !eq(u.GetProcess(), tt.union) {
			t.Errorf("%s: UnionPermissions %v", tt.name, u)
		}
		if i := permission.IntersectPermissions(xs, xs); !eq(i.GetDownload(), permission.Intersect(tt.y, tt.y)) {
			t.Errorf("%s: IntersectPermissions %v", tt.name, i)
		}
	}
}

func TestAllows(t *testing.T) {
	ps := &protos.Permissions{Process: perm(false, "a"), Download: perm(true)}
	for _, c := range []struct {
		org               string
		process, download bool
	}{{"a", true, true}, {"b", false, true}} {
		if permission.CanProcess(ps, c.org) != c.process || permission.CanDownload(ps, c.org) != c.download {
			t.Errorf("%s: process %v download %v", c.org, permission.CanProcess(ps, c.org), permission.CanDownload(ps, c.org))
		}
	}
	if permission.Allows(nil, "a") {
		t.Error("nil permission allows")
	}
}
