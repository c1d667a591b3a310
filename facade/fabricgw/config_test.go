package fabricgw

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRegisterFlags(t *testing.T) {
	fs := flag.NewFlagSet("fabric", flag.ContinueOnError)
	cfg := RegisterFlags(fs)
	err := fs.Parse([]string{"--peer-endpoint", "127.0.0.1:9051", "--mspid", "Org2MSP", "--cert", "c.pem", "--key", "ks",
		"--peer-tls-ca", "ca.pem", "--submit-timeout", "5s", "--conflict-retries", "2", "--plain-payloads"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{PeerEndpoint: "127.0.0.1:9051", PeerTLSCA: "ca.pem", MSPID: "Org2MSP", Cert: "c.pem", Key: "ks",
		Chaincode: DefaultChaincode, EvaluateTimeout: DefaultEvaluateTimeout,
		SubmitTimeout: 5 * time.Second, ConflictRetries: 2, PlainPayloads: true}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("config = %+v\nwant     %+v", *cfg, want)
	}
	if err := cfg.validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestOpenRefusesIncompleteOrUnreadableConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := Config{PeerEndpoint: "127.0.0.1:1", PeerTLSCA: notPEM, MSPID: "Org1MSP", Cert: notPEM, Key: notPEM}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{name: "missing settings", edit: func(c *Config) { c.MSPID, c.Key = "", "" }, want: "missing [mspid key]"},
		{name: "no certificate file", edit: func(c *Config) { c.Cert = filepath.Join(dir, "nope") }, want: "read certificate"},
		{name: "certificate not PEM", edit: func(*Config) {}, want: "certificate " + notPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.edit(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := Open(ctx, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	two := filepath.Join(dir, "two")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{one, two, empty} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(one, "priv_sk"), "KEY1")
	write(filepath.Join(two, "a"), "A")
	write(filepath.Join(two, "b"), "B")
	write(filepath.Join(dir, "file"), "KEY2")
	tests := []struct {
		path, want, wantErr string
	}{
		{path: filepath.Join(dir, "file"), want: "KEY2"},
		{path: one, want: "KEY1"},
		{path: two, wantErr: "2 files"},
		{path: empty, wantErr: "no key file"},
		{path: filepath.Join(dir, "missing"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		got, err := readKeyFile(tt.path)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("readKeyFile(%s) err = %v, want %q", tt.path, err, tt.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("readKeyFile(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

func TestChannelFlag(t *testing.T) {
	tests := []struct {
		args        []string
		wantDefault string
		wantAll     []string
	}{
		{nil, DefaultChannel, []string{DefaultChannel}},
		{[]string{"--channel", "alpha"}, "alpha", []string{"alpha"}},
		{[]string{"--channel", "alpha,beta", "--channel", "gamma"}, "alpha", []string{"alpha", "beta", "gamma"}},
		{[]string{"--channel", "alpha", "--channel", "alpha"}, "alpha", []string{"alpha"}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("fabric", flag.ContinueOnError)
		cfg := RegisterFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		c := cfg.withDefaults()
		if c.Channel != tt.wantDefault || !reflect.DeepEqual(c.Channels, tt.wantAll) {
			t.Errorf("%v: channel %q, channels %v; want %q, %v", tt.args, c.Channel, c.Channels, tt.wantDefault, tt.wantAll)
		}
	}
	fs := flag.NewFlagSet("fabric", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--channel", "a,,b"}); err == nil {
		t.Error("an empty channel name was accepted")
	}
}
