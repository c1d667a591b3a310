package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeCouch(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		want   string
	}{
		{"ok", http.StatusOK, ""},
		{"unauthorised", http.StatusUnauthorized, "refused the credentials (HTTP 401)"},
		{"forbidden", http.StatusForbidden, "refused the credentials (HTTP 403)"},
		{"server error", http.StatusInternalServerError, "unexpected HTTP 500"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var auth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/_all_dbs" {
					t.Errorf("probe path %s", r.URL.Path)
				}
				auth = r.Header.Get("Authorization")
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			t.Setenv("ORCHESTRATOR_COUCHDB_USER", "admin")
			t.Setenv("ORCHESTRATOR_COUCHDB_PASSWORD", "s3cret")
			raw, redacted, err := couchURL(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = probeCouch(context.Background(), raw, redacted)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error shows the password: %v", err)
			}
			if auth == "" {
				t.Error("no credentials sent")
			}
		})
	}
	if _, _, err := couchURL("http://user:pw@[::1"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Fatalf("bad URL: %v", err)
	}
}

func TestPrepareDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	unlock, err := prepareDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepareDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := prepareDataDir(dir)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := prepareDataDir(file); err == nil {
		t.Fatal("a file as data folder")
	}
}
