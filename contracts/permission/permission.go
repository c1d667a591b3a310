// Package permission holds the rules of asset permissions: who may process
// or download an asset, how permissions are created from a request and how
// they combine. Lists of authorized ids keep a deterministic order (first
// seen first), so every endorser computes the same permissions.
package permission

import (
	"slices"

	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// Create turns requested permissions into one permission: the owner is
// always among the authorized ids, and every authorized id must be a
// registered organization (else OE0003 "invalid permission input values").
// A nil request means private to the owner.
func Create(l *ledger.Tx, owner string, req *protos.NewPermissions) (*protos.Permission, error) {
	if req == nil {
		req = &protos.NewPermissions{}
	}
	ids := slices.Clone(req.GetAuthorizedIds())
	if !req.GetPublic() && len(ids) > 0 {
		known, err := ledger.GetMany[protos.Organization](l, ledger.OrganizationKind, ids)
		if err != nil {
			return nil, err
		}
		for _, o := range known {
			if o == nil {
				return nil, orcerr.New(orcerr.BadRequest, "invalid permission input values")
			}
		}
	}
	if !slices.Contains(ids, owner) {
		ids = append(ids, owner)
	}
	return &protos.Permission{Public: req.GetPublic(), AuthorizedIds: ids}, nil
}

// CreatePermissions is Create for both process and download (the same
// permission for both, as in the reference).
func CreatePermissions(l *ledger.Tx, owner string, req *protos.NewPermissions) (*protos.Permissions, error) {
	p, err := Create(l, owner, req)
	if err != nil {
		return nil, err
	}
	return &protos.Permissions{Process: p, Download: clonePermission(p)}, nil
}

func clonePermission(p *protos.Permission) *protos.Permission {
	return &protos.Permission{Public: p.GetPublic(), AuthorizedIds: slices.Clone(p.GetAuthorizedIds())}
}

// Allows reports whether p lets org in: public, or org among the ids.
func Allows(p *protos.Permission, org string) bool {
	return p.GetPublic() || slices.Contains(p.GetAuthorizedIds(), org)
}

// CanProcess reports whether org may process an asset with perms.
func CanProcess(perms *protos.Permissions, org string) bool {
	return Allows(perms.GetProcess(), org)
}

// CanDownload reports whether org may download an asset with perms.
func CanDownload(perms *protos.Permissions, org string) bool {
	return Allows(perms.GetDownload(), org)
}

// Union returns a permission letting in whoever x or y lets in. Ids are
// those of x then the new ones of y, without duplicates; a public result
// keeps no ids.
func Union(x, y *protos.Permission) *protos.Permission {
	if x.GetPublic() || y.GetPublic() {
		return &protos.Permission{Public: true}
	}
	ids := make([]string, 0, len(x.GetAuthorizedIds())+len(y.GetAuthorizedIds()))
	for _, id := range slices.Concat(x.GetAuthorizedIds(), y.GetAuthorizedIds()) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return &protos.Permission{AuthorizedIds: ids}
}

// Intersect returns a permission letting in whoever both x and y let in.
// When one side is public the other's ids are kept; otherwise the ids of x
// that y also has, in x's order.
func Intersect(x, y *protos.Permission) *protos.Permission {
	r := &protos.Permission{Public: x.GetPublic() && y.GetPublic()}
	switch {
	case !x.GetPublic() && y.GetPublic():
		r.AuthorizedIds = slices.Clone(x.GetAuthorizedIds())
	case x.GetPublic() && !y.GetPublic():
		r.AuthorizedIds = slices.Clone(y.GetAuthorizedIds())
	default:
		for _, id := range x.GetAuthorizedIds() {
			if slices.Contains(y.GetAuthorizedIds(), id) && !slices.Contains(r.AuthorizedIds, id) {
				r.AuthorizedIds = append(r.AuthorizedIds, id)
			}
		}
	}
	return r
}

// UnionPermissions is Union of process and download permissions.
func UnionPermissions(x, y *protos.Permissions) *protos.Permissions {
	return &protos.Permissions{
		Process:  Union(x.GetProcess(), y.GetProcess()),
		Download: Union(x.GetDownload(), y.GetDownload()),
	}
}

// IntersectPermissions is Intersect of process and download permissions.
func IntersectPermissions(x, y *protos.Permissions) *protos.Permissions {
	return &protos.Permissions{
		Process:  Intersect(x.GetProcess(), y.GetProcess()),
		Download: Intersect(x.GetDownload(), y.GetDownload()),
	}
}
