// Package organization is the contract of the organizations of the network
// ("orchestrator.organization"): an organization registers itself, under
// its MSP id, and everyone may list them.
package organization

import (
	"github.com/fedchain/orchestrator/contracts/rpc"
	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/ledger"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// registerOrganization registers the caller's organization
// (RegisterOrganizationParam -> Organization). OE0006 when it is already
// registered.
func (c *Contract) registerOrganization(l *ledger.Tx, in *protos.RegisterOrganizationParam) (rpc.Response[*protos.Organization], error) {
	return rpc.AsCaller(l, in, register)
}

func register(l *ledger.Tx, caller string, p *protos.RegisterOrganizationParam) (*protos.Organization, error) {
	if err := validation.RequestURL("address", p.GetAddress()); err != nil {
		return nil, err
	}
	exists, err := ledger.OrganizationExists(l, caller)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, orcerr.New(orcerr.Conflict, "organization with key %q already exists", caller)
	}
	now, err := l.Now()
	if err != nil {
		return nil, err
	}
	o := &protos.Organization{Id: caller, Address: p.GetAddress(), CreationDate: now}
	if err := ledger.AddOrganization(l, o); err != nil {
		return nil, err
	}
	err = l.Emit(&protos.Event{
		EventKind: protos.EventKind_EVENT_ASSET_CREATED,
		AssetKind: protos.AssetKind_ASSET_ORGANIZATION,
		AssetKey:  caller,
		Asset:     &protos.Event_Organization{Organization: o},
	})
	return o, err
}

// getAllOrganizations lists the registered organizations by registration
// time (GetAllOrganizationsParam -> GetAllOrganizationsResponse).
func (c *Contract) getAllOrganizations(l *ledger.Tx, _ *protos.GetAllOrganizationsParam) (rpc.Response[*protos.GetAllOrganizationsResponse], error) {
	orgs, err := ledger.AllOrganizations(l)
	return rpc.Answer(&protos.GetAllOrganizationsResponse{Organizations: orgs}, err)
}
