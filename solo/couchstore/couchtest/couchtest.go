// Package couchtest starts and stops throw-away Apache CouchDB servers for
// tests that must control the server itself (outages, restarts), from the
// release in $COUCHDB_HOME or ../shared/couchdb next to the repository.
// Tests that only need a server use COUCHDB_URL (scripts/couchdb).
package couchtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Server is one single-node CouchDB that a test started.
type Server struct {
	t         testing.TB
	home, dir string
	port      int
	// URL is the server's URL, credentials included.
	URL string
}

// Home returns the Apache CouchDB release (a folder with start.sh and
// stop.sh): $COUCHDB_HOME, else the shared/couchdb folder next to the
// repository found from the working directory upwards. Without one the
// test is skipped, saying so.
func Home(t testing.TB) string {
	t.Helper()
	if home := os.Getenv("COUCHDB_HOME"); home != "" {
		abs, err := filepath.Abs(home)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(abs, "start.sh")); err != nil {
			t.Fatalf("COUCHDB_HOME=%s has no start.sh", home)
		}
		return abs
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared", "couchdb")
		if _, err := os.Stat(filepath.Join(cand, "start.sh")); err == nil {
			return cand
		}
		if filepath.Dir(dir) == dir {
			t.Skip("SKIPPED: no Apache CouchDB release (set COUCHDB_HOME): this test starts and stops its own server")
		}
	}
}

// Start starts a server on a free loopback port, with its data in a
// temporary folder; it is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{t: t, home: Home(t), dir: t.TempDir(), port: port}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts the server (again), on the same port and data.
func (s *Server) Start() {
	s.t.Helper()
	out, err := exec.Command(filepath.Join(s.home, "start.sh"), s.dir, fmt.Sprint(s.port)).Output()
	if err != nil {
		s.t.Fatalf("start.sh: %v", err)
	}
	s.URL = strings.TrimSpace(string(out))
}

// Stop stops the server and waits until it is gone.
func (s *Server) Stop() {
	if out, err := exec.Command(filepath.Join(s.home, "stop.sh"), s.dir).CombinedOutput(); err != nil {
		s.t.Errorf("stop.sh: %v: %s", err, out)
	}
}
