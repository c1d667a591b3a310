package ledger

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// orgTimeIndex lists organizations by registration time:
// (organization~time, <time>, <id>).
const orgTimeIndex = "organization~time"

// sortTime renders a timestamp as a fixed-width string whose lexical order
// is time order (nanoseconds since the epoch, ctTime), for index
// attributes.
func sortTime(ts *timestamppb.Timestamp) string { return ctTime(ts) }

// OrganizationExists reports whether organization id is registered.
func OrganizationExists(l *Tx, id string) (bool, error) {
	return Exists(l, OrganizationKind, id)
}

// AddOrganization stores a new organization and indexes it.
func AddOrganization(l *Tx, o *protos.Organization) error {
	if err := Put(l, OrganizationKind, o.GetId(), o); err != nil {
		return err
	}
	return l.putIndex(orgTimeIndex, sortTime(o.GetCreationDate()), o.GetId())
}

// AllOrganizations returns every organization, by registration time then
// id.
func AllOrganizations(l *Tx) ([]*protos.Organization, error) {
	ids, err := l.indexLast(orgTimeIndex)
	if err != nil {
		return nil, err
	}
	return GetAll[protos.Organization](l, OrganizationKind, ids)
}
