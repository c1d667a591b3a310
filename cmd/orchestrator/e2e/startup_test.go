package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	out, _, code := runCLI(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "solo") || !strings.Contains(out, "bench") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "orchestrator ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, nil, "solo", "--help")
	if code != 0 || !strings.Contains(out, "--listen") || !strings.Contains(out, "ORCHESTRATOR_LISTEN") {
		t.Errorf("solo --help: exit %d, %q", code, out)
	}
	_, errOut, code := runCLI(t, nil)
	if code != 2 || !strings.Contains(errOut, "Usage") {
		t.Errorf("no command: exit %d, %q", code, errOut)
	}
}

// TestStartupErrors checks that a server that cannot start says why in one
// line and exits with a non-zero status.
func TestStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	file := writeFile(t, dir, "file", []byte("x"))
	badYAML := writeFile(t, dir, "bad.yaml", []byte("channels: [oops\n"))
	unknownKey := writeFile(t, dir, "unknown.yaml", []byte("chanels:\n  a: [b]\n"))
	badChannel := writeFile(t, dir, "badchannel.yaml", []byte("channels:\n  My_Channel: [Org1MSP]\n"))
	locked := t.TempDir()
	p := startProc(t, "--data", locked)
	defer p.stop()
	readOnly := filepath.Join(dir, "ro")
	os.Mkdir(readOnly, 0o500)
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"port taken", nil, []string{"--listen", busy.Addr().String()}, 1, "address already in use"},
		{"bad listen address", nil, []string{"--listen", "nowhere"}, 1, "listen on nowhere"},
		{"data is a file", nil, []string{"--data", file}, 1, "data folder"},
		{"data in use", nil, []string{"--data", locked}, 1, "in use by another orchestrator process"},
		{"config missing", nil, []string{"--config", filepath.Join(dir, "nope.yaml")}, 1, "no such file"},
		{"config not YAML", nil, []string{"--config", badYAML}, 1, "bad.yaml"},
		{"config unknown key", nil, []string{"--config", unknownKey}, 1, "chanels"},
		{"config bad channel", nil, []string{"--config", badChannel}, 1, "invalid name"},
		{"unknown flag", nil, []string{"--nope"}, 2, "flag provided but not defined"},
		{"no block cache", nil, []string{"--block-cache-mib", "0"}, 2, "--block-cache-mib 0"},
		{"negative read cache", nil, []string{"--read-cache-mib", "-1"}, 2, "--read-cache-mib -1"},
		{"bad env value", []string{"ORCHESTRATOR_MAX_PAGE_SIZE=lots"}, nil, 2, "ORCHESTRATOR_MAX_PAGE_SIZE"},
		{"env listen", []string{"ORCHESTRATOR_LISTEN=" + busy.Addr().String()}, nil, 1, "address already in use"},
		{"couchdb unreachable", nil, []string{"--couchdb", "http://admin:secret@127.0.0.1:1"}, 1, "unreachable"},
		{"couchdb bad URL", nil, []string{"--couchdb", "ftp://x"}, 2, "--couchdb"},
		{"client CA missing", nil, []string{"--tls-cert", file, "--tls-key", file, "--client-ca", "Org1MSP=" + filepath.Join(dir, "nope.pem")}, 1, "TLS certificate"},
		{"client CA syntax", nil, []string{"--client-ca", "Org1MSP"}, 2, "MSPID=FILE"},
		{"client CA without TLS", nil, []string{"--client-ca", "Org1MSP=" + file}, 1, "need TLS"},
	}
	if os.Getuid() != 0 { // root writes anywhere
		tests = append(tests, struct {
			name string
			env  []string
			args []string
			code int
			want string
		}{"data not writable", nil, []string{"--data", readOnly}, 1, "not writable"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"solo", "--data", t.TempDir()}
			if !strings.Contains(strings.Join(tt.env, " "), "ORCHESTRATOR_LISTEN=") {
				args = append(args, "--listen", "127.0.0.1:0")
			}
			args = append(args, tt.args...)
			_, errOut, code := runCLI(t, tt.env, args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != tt.code || len(lines) != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and one line containing %q", code, errOut, tt.code, tt.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "secret") {
				t.Fatalf("stderr leaks a stack or a password: %s", errOut)
			}
		})
	}
}
