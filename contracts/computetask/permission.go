package computetask

import (
	"slices"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// newPermission turns requested permissions into a stored one: a private
// permission always includes the owner, and only registered organizations
// may be named.
func (s *Session) newPermission(owner string, np *protos.NewPermissions) (*protos.Permission, error) {
	if !np.GetPublic() {
		for _, id := range np.GetAuthorizedIds() {
			ok, err := s.orgExists(id)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, orcerr.New(orcerr.BadRequest, "invalid permission input values: unknown organization %q", id)
			}
		}
	}
	ids := slices.Clone(np.GetAuthorizedIds())
	if !slices.Contains(ids, owner) {
		ids = append(ids, owner)
	}
	return &protos.Permission{Public: np.GetPublic(), AuthorizedIds: ids}, nil
}

// newPermissions builds the process and download permissions of an output;
// both are the same.
func (s *Session) newPermissions(owner string, np *protos.NewPermissions) (*protos.Permissions, error) {
	p, err := s.newPermission(owner, np)
	if err != nil {
		return nil, err
	}
	return &protos.Permissions{Process: p, Download: &protos.Permission{Public: p.GetPublic(), AuthorizedIds: slices.Clone(p.GetAuthorizedIds())}}, nil
}
