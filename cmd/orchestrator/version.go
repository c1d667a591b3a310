package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/fedchain/orchestrator/contracts/info"
)

// Set at build time by make build (the Makefile's LDFLAGS):
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=<rev> -X main.modified=true"
//
// Left empty, they come from the Go build info (see info.ReadBuild).
var version, commit, modified string

// buildVersion is the version of this binary, as QueryVersion reports it:
// "v1.2.3 (commit 0123456789ab)", or "dev ..." for an untagged build.
func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return info.ReadBuild(version, commit, modified, bi).String()
}

func versionString() string {
	return fmt.Sprintf("orchestrator %s %s/%s %s", buildVersion(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "Print the version.", stderr)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionString())
	return nil
}
