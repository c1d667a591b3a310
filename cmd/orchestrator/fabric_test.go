package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFabricHelp checks that the fabric subcommand's usage documents the
// flags a network administrator needs: the organization, its channels,
// the checkpoint folder.
func TestFabricHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"fabric", "--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{"--mspid", "--channel  [ORCHESTRATOR_CHANNEL]", "repeatable", "--state-dir", "PermissionDenied"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("fabric --help does not mention %q:\n%s", want, out.String())
		}
	}
}

// TestFabricRefusesEmptyChannel checks that an empty channel name is a
// command-line error (exit 2), before any connection to a peer.
func TestFabricRefusesEmptyChannel(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"fabric", "--channel", "a,,b"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "empty channel name") {
		t.Errorf("exit %d, stderr %q; want 2 and the reason", code, errOut.String())
	}
}
