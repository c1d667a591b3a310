package ledger

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// orgTimeIndex lists organizations by registration time:
// (organization~time, <time>, <id>).
const orgTimeIndex = "organization~time"

// SortTime renders a timestamp as a fixed-width string whose lexical order
// is time order (nanoseconds since the epoch, 20 digits), for index
// attributes.
func SortTime(ts *timestamppb.Timestamp) string { return ascTime(ts.AsTime().UnixNano()) }

// OrganizationExists reports whether organization id is registered.
func OrganizationExists(l *Tx, id string) (bool, error) {
	return Exists(l, OrganizationKind, id)
}

// GetOrganization reads organization id; OE0002 when unknown.
func GetOrganization(l *Tx, id string) (*protos.Organization, error) {
	return Get[protos.Organization](l, OrganizationKind, id)
}

// AddOrganization stores a new organization and indexes it.
func AddOrganization(l *Tx, o *protos.Organization) error {
	if err := Put(l, OrganizationKind, o.GetId(), o); err != nil {
		return err
	}
	return l.PutIndex(orgTimeIndex, SortTime(o.GetCreationDate()), o.GetId())
}

// AllOrganizations returns every organization, by registration time then
// id.
func AllOrganizations(l *Tx) ([]*protos.Organization, error) {
	ids, err := l.IndexLast(orgTimeIndex)
	if err != nil {
		return nil, err
	}
	return GetAll[protos.Organization](l, OrganizationKind, ids)
}
