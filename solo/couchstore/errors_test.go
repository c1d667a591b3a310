package couchstore

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestNewOpenerRejects(t *testing.T) {
	for _, u := range []string{"", "localhost:5984", "ftp://h/", "http://", "http://u:s3cret@h:1/%zz"} {
		_, err := NewOpener(u)
		if err == nil {
			t.Errorf("NewOpener(%q): no error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewOpener(%q): error shows the password: %v", u, err)
		}
	}
	if _, err := NewOpener("http://127.0.0.1:1", WithDBPrefix("Bad")); err == nil {
		t.Error("bad prefix accepted")
	}
}

// An unreachable server is an error naming the server, without password.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	o, err := NewOpener("http://admin:s3cret@" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if got := o.Server(); strings.Contains(got, "s3cret") {
		t.Fatalf("Server() = %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := o.Open(ctx, "ch")
	if err == nil {
		s.Close()
		t.Fatal("Open on a closed port: no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || !strings.Contains(msg, addr) || !strings.Contains(msg, "fedchain_ch") {
		t.Fatalf("error should name server and database, without password: %v", err)
	}
}
