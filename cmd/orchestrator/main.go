// Command orchestrator serves the fedchain orchestrator gRPC API.
//
//	orchestrator solo     run the contracts in process over an embedded store (or CouchDB)
//	orchestrator fabric   forward transactions to a Hyperledger Fabric network
//	orchestrator bench    drive a load test against a running server
//	orchestrator version  print the version
//
// Every flag can also be set with an environment variable named
// ORCHESTRATOR_ and the flag name in upper case with dashes as underscores
// (ORCHESTRATOR_LISTEN for --listen); a flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// exitUsage is the exit status of a command line error.
const exitUsage = 2

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"solo", "serve the API, running the contracts in process (embedded store in --data, or --couchdb)", runSolo},
		{"fabric", "serve the API in front of a Hyperledger Fabric network", runFabric},
		{"bench", "run a load test against a server of this API (--addr)", runBench},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: orchestrator COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'orchestrator COMMAND --help' for the flags of a command.\n"+
		"Every flag may also be given as an environment variable: ORCHESTRATOR_<FLAG>,\n"+
		"e.g. ORCHESTRATOR_LISTEN=0.0.0.0:9000 for --listen.\n")
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	case "-version", "--version":
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		// The first signal starts a graceful shutdown; a second one kills
		// the process (the default disposition, restored by stop).
		go func() { <-ctx.Done(); stop() }()
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "orchestrator %s: %s\n", c.name, oneLine(err))
			return exitUsage
		default:
			fmt.Fprintf(stderr, "orchestrator %s: %s\n", c.name, oneLine(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "orchestrator: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	fields := strings.FieldsFunc(err.Error(), func(r rune) bool { return r == '\n' || r == '\r' })
	for i, f := range fields {
		fields[i] = strings.TrimSpace(f)
	}
	return strings.Join(fields, "; ")
}

// usageError is a command line error (exit status 2).
type usageError struct{ error }
