package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{"listen": "ORCHESTRATOR_LISTEN", "client-ca": "ORCHESTRATOR_CLIENT_CA", "metrics-listen": "ORCHESTRATOR_METRICS_LISTEN"} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		listen  string
		timeout time.Duration
		cas     string
		err     string
	}{
		{"defaults", nil, nil, "127.0.0.1:9000", time.Minute, "", ""},
		{"env", map[string]string{"ORCHESTRATOR_LISTEN": ":1", "ORCHESTRATOR_REQUEST_TIMEOUT": "5s", "ORCHESTRATOR_CLIENT_CA": "A=a.pem,B=b.pem"}, nil, ":1", 5 * time.Second, "A=a.pem,B=b.pem", ""},
		{"command line wins", map[string]string{"ORCHESTRATOR_LISTEN": ":1"}, []string{"--listen", ":2"}, ":2", time.Minute, "", ""},
		{"bad env", map[string]string{"ORCHESTRATOR_REQUEST_TIMEOUT": "soon"}, nil, "", 0, "", "ORCHESTRATOR_REQUEST_TIMEOUT: invalid value for --request-timeout"},
		{"bad flag", nil, []string{"--nope"}, "", 0, "", "flag provided but not defined: -nope (see 'orchestrator solo --help')"},
		{"argument", nil, []string{"extra"}, "", 0, "", `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var f serveFlags
			fs := newFlagSet("solo", "", io.Discard)
			f.register(fs)
			err := parseFlags(fs, tt.args, io.Discard)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.As(err, new(usageError)) {
					t.Fatalf("err = %v, want usage error %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.listen != tt.listen || f.requestTimeout != tt.timeout || f.clientCAs.String() != tt.cas {
				t.Errorf("listen %q timeout %v client CAs %q", f.listen, f.requestTimeout, f.clientCAs.String())
			}
		})
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	var out bytes.Buffer
	fs := newFlagSet("solo", "Serve.", io.Discard)
	new(serveFlags).register(fs)
	if err := parseFlags(fs, []string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--listen  [ORCHESTRATOR_LISTEN]") {
		t.Fatalf("usage: %s", out.String())
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, 0, "Usage: orchestrator COMMAND"},
		{[]string{"version"}, 0, "orchestrator "},
		{nil, 2, ""},
		{[]string{"nope"}, 2, ""},
		{[]string{"solo", "--log-level", "loud"}, 2, ""},
	} {
		var out, errOut bytes.Buffer
		if code := run(tt.args, &out, &errOut); code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("run %v: exit %d, stdout %q, stderr %q", tt.args, code, out.String(), errOut.String())
		}
	}
}

func TestOneLine(t *testing.T) {
	err := errors.New("config x: yaml: unmarshal errors:\n  line 1: field a not found\n")
	if got := oneLine(err); got != "config x: yaml: unmarshal errors:; line 1: field a not found" {
		t.Fatalf("oneLine = %q", got)
	}
}

func TestBoundFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string // "" : accepted
	}{
		{nil, ""},
		{[]string{"--max-page-size", "0"}, "--max-page-size 0: want 1 to 4294967295"},
		{[]string{"--max-page-size", "4294967296"}, "--max-page-size 4294967296"},
		{[]string{"--max-page-size", "1"}, ""},
		{[]string{"--max-channels", "-1"}, "--max-channels -1"},
		{[]string{"--max-channels", "0"}, ""},
		{[]string{"--max-concurrent-streams", "0"}, "--max-concurrent-streams 0"},
		{[]string{"--max-streams-per-org", "0"}, "--max-streams-per-org 0"},
		{[]string{"--max-connections", "0"}, "--max-connections 0"},
		{[]string{"--max-msg-size", "0"}, "--max-msg-size 0"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var f serveFlags
			fs := newFlagSet("solo", "Serve.", io.Discard)
			f.register(fs)
			if err := parseFlags(fs, tt.args, io.Discard); err != nil {
				t.Fatal(err)
			}
			_, err := f.options(nil)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var ue usageError
			if err != nil && !errors.As(err, &ue) {
				t.Errorf("%v is not a usage error (exit 2)", err)
			}
		})
	}
}
