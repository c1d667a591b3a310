package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/protos"
)

// TestVersion checks that QueryVersion answers the build version of the
// binary that runs the contracts. In solo mode that is the server: the
// test binary (built without a version) answers what its `version` command
// prints, and a binary stamped at link time as make build does answers the
// stamped tag and commit. Against external servers (Fabric), the answer is
// the chaincode's version, which must at least be there.
func TestVersion(t *testing.T) {
	if external() {
		o := newOrg(t, os.Getenv("E2E_ADDR"), "Org1MSP", "mychannel")
		got := must(o.info().QueryVersion(o.ctx(), &protos.QueryVersionParam{}))(t).GetOrchestrator()
		if got == "" {
			t.Fatal("QueryVersion answered an empty version")
		}
		t.Logf("chaincode version: %s", got)
		return
	}
	t.Run("unstamped", func(t *testing.T) {
		out, _, _ := runCLI(t, nil, "version")
		p := startProc(t, "--data", t.TempDir())
		o := newOrg(t, p.addr, "Org1MSP", "mychannel")
		got := must(o.info().QueryVersion(o.ctx(), &protos.QueryVersionParam{}))(t).GetOrchestrator()
		if got == "" || !strings.HasPrefix(out, "orchestrator "+got+" ") {
			t.Errorf("QueryVersion %q, `orchestrator version` %q: want the same version", got, out)
		}
		p.stop()
	})
	t.Run("stamped", func(t *testing.T) {
		needBinary(t)
		const rev = "0123456789abcdef0123456789abcdef01234567"
		stamped := filepath.Join(t.TempDir(), "orchestrator")
		build := exec.Command("go", "build", "-o", stamped,
			"-ldflags", "-X main.version=v9.8.7-e2e -X main.commit="+rev,
			"github.com/fedchain/orchestrator/cmd/orchestrator")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		// startProc and runCLI run the package's binary.
		saved := binary
		binary = stamped
		t.Cleanup(func() { binary = saved })
		const want = "v9.8.7-e2e (commit 0123456789ab)"
		if out, _, _ := runCLI(t, nil, "version"); !strings.HasPrefix(out, "orchestrator "+want+" ") {
			t.Errorf("`orchestrator version` = %q, want it to start with %q", out, "orchestrator "+want)
		}
		p := startProc(t, "--data", t.TempDir())
		o := newOrg(t, p.addr, "Org1MSP", "mychannel")
		if got := must(o.info().QueryVersion(o.ctx(), &protos.QueryVersionParam{}))(t).GetOrchestrator(); got != want {
			t.Errorf("QueryVersion = %q, want %q", got, want)
		}
		p.stop()
	})
}
