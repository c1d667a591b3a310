package info_test

import (
	"runtime/debug"
	"testing"

	cct "github.com/fedchain/orchestrator/contracts/chaincode/chaincodetest"
	"github.com/fedchain/orchestrator/contracts/info"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/solo/solotest"
)

func TestQueryVersion(t *testing.T) {
	n := cct.New(t, solotest.Start)
	for _, msp := range []string{"Org1MSP", "Unregistered"} {
		res := new(protos.QueryVersionResponse)
		n.MustEvaluate(msp, "orchestrator.info:QueryVersion", &protos.QueryVersionParam{}, res)
		if res.GetOrchestrator() != info.DevVersion {
			t.Errorf("%s: version %q, want %q (the test chaincode is built without a version)", msp, res.GetOrchestrator(), info.DevVersion)
		}
	}
}

// TestQueryVersionOfBuild runs the chaincode as a binary built with a
// version does: QueryVersion answers that version, the same on both
// endorsements.
func TestQueryVersionOfBuild(t *testing.T) {
	const v = "v1.2.3 (commit 0123456789ab)"
	n := cct.New(t, solotest.Start, cct.Version(v))
	res := new(protos.QueryVersionResponse)
	n.MustEvaluate("Org1MSP", "orchestrator.info:QueryVersion", &protos.QueryVersionParam{}, res)
	if res.GetOrchestrator() != v {
		t.Errorf("version %q, want %q", res.GetOrchestrator(), v)
	}
}

func TestReadBuild(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name                      string
		version, commit, modified string
		bi                        *debug.BuildInfo
		want                      string
	}{
		{"nothing known", "", "", "", nil, "dev"},
		{"local build, no vcs", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"local build with vcs", "", "", "", vcs("false"), "dev (commit 0123456789ab)"},
		{"local modified build", "", "", "", vcs("true"), "dev (commit 0123456789ab, modified)"},
		{"go install of a tag", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"module version and vcs", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: vcs("false").Settings}, "v1.4.0 (commit 0123456789ab)"},
		{"stamped tag and commit", "v2.0.0", rev, "", vcs("true"), "v2.0.0 (commit 0123456789ab)"},
		{"stamped modified", "v2.0.0", rev, "true", nil, "v2.0.0 (commit 0123456789ab, modified)"},
		{"stamped untagged", "", rev, "", nil, "dev (commit 0123456789ab)"},
		{"stamped tag only, vcs from build info", "v2.0.0", "", "", vcs("true"), "v2.0.0 (commit 0123456789ab, modified)"},
	}
	for _, tt := range tests {
		if got := info.ReadBuild(tt.version, tt.commit, tt.modified, tt.bi).String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
