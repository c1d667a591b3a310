package datamanager_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
	"github.com/fedchain/orchestrator/solo/solotest"
)

const (
	register = "orchestrator.datamanager:RegisterDataManager"
	get      = "orchestrator.datamanager:GetDataManager"
	query    = "orchestrator.datamanager:QueryDataManagers"
	update   = "orchestrator.datamanager:UpdateDataManager"
)

func TestRegisterDataManager(t *testing.T) {
	k := cct.Key(1)
	tests := []struct {
		name   string
		caller string
		edit   func(*protos.NewDataManager)
		want   orcerr.Kind
	}{
		{name: "valid", caller: "Org1MSP"},
		{name: "restricted to a known org", caller: "Org1MSP", edit: func(d *protos.NewDataManager) {
			d.NewPermissions = &protos.NewPermissions{AuthorizedIds: []string{"Org2MSP"}}
		}},
		{name: "restricted to an unknown org", caller: "Org1MSP", want: orcerr.BadRequest, edit: func(d *protos.NewDataManager) {
			d.NewPermissions = &protos.NewPermissions{AuthorizedIds: []string{"Org9MSP"}}
		}},
		{name: "logs for an unknown org", caller: "Org1MSP", want: orcerr.BadRequest, edit: func(d *protos.NewDataManager) {
			d.LogsPermission = &protos.NewPermissions{AuthorizedIds: []string{"Org9MSP"}}
		}},
		{name: "duplicate", caller: "Org2MSP", want: orcerr.Conflict, edit: func(d *protos.NewDataManager) { d.Key = cct.Key(100) }},
		{name: "bad key", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.Key = "abc" }},
		{name: "no name", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.Name = "" }},
		{name: "long name", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.Name = string(make([]byte, 101)) }},
		{name: "no permissions", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.NewPermissions = nil }},
		{name: "no logs permission", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.LogsPermission = nil }},
		{name: "no opener", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.Opener = nil }},
		{name: "bad opener checksum", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.Opener.Checksum = "xyz" }},
		{name: "bad description address", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) { d.Description.StorageAddress = "a b" }},
		{name: "long metadata", caller: "Org1MSP", want: orcerr.InvalidAsset, edit: func(d *protos.NewDataManager) {
			d.Metadata = map[string]string{"k": string(make([]byte, 101))}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.RegisterOrgs("Org1MSP", "Org2MSP")
			n.RegisterDataManager("Org1MSP", cct.Key(100))
			req := cct.NewDataManager(k, &protos.NewPermissions{Public: true})
			if tt.edit != nil {
				tt.edit(req)
			}
			got := new(protos.DataManager)
			n.Expect(tt.want, func() error { return n.Submit(tt.caller, register, req, got) })
			if tt.want != "" {
				return
			}
			if got.GetOwner() != tt.caller || got.GetKey() != k || !got.GetCreationDate().AsTime().Equal(n.Now()) {
				t.Errorf("registered %v", got)
			}
			if p := got.GetPermissions().GetProcess(); !p.GetPublic() && (len(p.GetAuthorizedIds()) != 2 || p.GetAuthorizedIds()[1] != tt.caller) {
				t.Errorf("process permission %v lacks the owner", p)
			}
			if ids := got.GetLogsPermission().GetAuthorizedIds(); len(ids) != 1 || ids[0] != tt.caller {
				t.Errorf("logs permission %v, want the owner only", got.GetLogsPermission())
			}
			stored := new(protos.DataManager)
			n.MustEvaluate("Org2MSP", get, &protos.GetDataManagerParam{Key: k}, stored)
			if !proto.Equal(stored, got) {
				t.Errorf("stored %v, registered %v", stored, got)
			}
			if len(n.LastEvents()) != 1 || !proto.Equal(n.LastEvents()[0].GetDataManager(), got) ||
				n.LastEvents()[0].GetEventKind() != protos.EventKind_EVENT_ASSET_CREATED {
				t.Errorf("events %v", n.LastEvents())
			}
		})
	}
}

func TestGetDataManagerNotFound(t *testing.T) {
	n := cct.New(t, solotest.Start)
	err := n.Evaluate("Org1MSP", get, &protos.GetDataManagerParam{Key: cct.Key(7)}, nil)
	if cct.KindOf(err) != orcerr.NotFound {
		t.Fatalf("error %v, want not found", err)
	}
	if want := `OE0002: datamanager with key "` + cct.Key(7) + `" not found`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestQueryDataManagers(t *testing.T) {
	n := cct.New(t, solotest.Start)
	n.RegisterOrgs("Org1MSP")
	order := []int{5, 3, 9, 1, 7}
	for _, i := range order {
		n.RegisterDataManager("Org1MSP", cct.Key(i))
	}
	for _, size := range []uint32{1, 2, 3, 5, 6, 0} {
		var got []string
		token := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("size %d: too many pages", size)
			}
			res := new(protos.QueryDataManagersResponse)
			n.MustEvaluate("Org1MSP", query, &protos.QueryDataManagersParam{PageToken: token, PageSize: size}, res)
			if size > 0 && len(res.GetDataManagers()) > int(size) {
				t.Fatalf("size %d: page of %d", size, len(res.GetDataManagers()))
			}
			for _, dm := range res.GetDataManagers() {
				got = append(got, dm.GetKey())
			}
			if token = res.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(got) != len(order) {
			t.Fatalf("size %d: got %v", size, got)
		}
		for i, k := range order {
			if got[i] != cct.Key(k) {
				t.Fatalf("size %d: got %v, want creation order", size, got)
			}
		}
	}
	err := n.Evaluate("Org1MSP", query, &protos.QueryDataManagersParam{PageToken: "!!"}, nil)
	if cct.KindOf(err) != orcerr.BadRequest {
		t.Errorf("bad token: %v", err)
	}
}

func TestUpdateDataManager(t *testing.T) {
	k := cct.Key(1)
	tests := []struct {
		name   string
		caller string
		req    *protos.UpdateDataManagerParam
		want   orcerr.Kind
	}{
		{name: "owner renames", caller: "Org1MSP", req: &protos.UpdateDataManagerParam{Key: k, Name: "new name"}},
		{name: "other org", caller: "Org2MSP", req: &protos.UpdateDataManagerParam{Key: k, Name: "new name"}, want: orcerr.PermissionDenied},
		{name: "unknown", caller: "Org1MSP", req: &protos.UpdateDataManagerParam{Key: cct.Key(2), Name: "x"}, want: orcerr.NotFound},
		{name: "blank name", caller: "Org1MSP", req: &protos.UpdateDataManagerParam{Key: k}, want: orcerr.InvalidAsset},
		{name: "bad key", caller: "Org1MSP", req: &protos.UpdateDataManagerParam{Key: "k", Name: "x"}, want: orcerr.InvalidAsset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cct.New(t, solotest.Start)
			n.RegisterOrgs("Org1MSP", "Org2MSP")
			before := n.RegisterDataManager("Org1MSP", k)
			n.Expect(tt.want, func() error { return n.Submit(tt.caller, update, tt.req, new(protos.UpdateDataManagerResponse)) })
			if tt.want != "" {
				return
			}
			got := new(protos.DataManager)
			n.MustEvaluate("Org1MSP", get, &protos.GetDataManagerParam{Key: k}, got)
			before.Name = tt.req.GetName()
			if !proto.Equal(got, before) {
				t.Errorf("stored %v, want %v", got, before)
			}
			if len(n.LastEvents()) != 1 || n.LastEvents()[0].GetEventKind() != protos.EventKind_EVENT_ASSET_UPDATED {
				t.Errorf("events %v", n.LastEvents())
			}
		})
	}
}
