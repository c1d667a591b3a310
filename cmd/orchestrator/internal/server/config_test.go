package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"mychannel": {"MyOrg1MSP", "MyOrg2MSP"}, "private": {"MyOrg1MSP"}}; !reflect.DeepEqual(c.Channels, want) {
		t.Errorf("channels %v", c.Channels)
	}
	if want := map[string]ClientCA{
		"MyOrg1MSP": {CA: filepath.Join("testdata", "certs", "org1-ca.pem")},
		"MyOrg2MSP": {CA: "/etc/orchestrator/org2-ca.pem", Subject: SubjectRule{Organization: stringList{"Org2"}, OU: stringList{"client", "admin"}, SAN: "*.org2.example.com"}},
	}; !reflect.DeepEqual(c.ClientCAs, want) {
		t.Errorf("client CAs %v", c.ClientCAs)
	}
	dir := t.TempDir()
	for _, tt := range []struct{ name, text, want string }{
		{"empty", "", ""},
		{"unknown key", "chanels: {}\n", "field chanels not found"},
		{"bad channel", "channels:\n  Bad_Name: [A]\n", "invalid name"},
		{"no organization", "channels:\n  a: []\n", "no organization"},
		{"empty organization", "channels:\n  a: [\"\"]\n", "empty organization"},
		{"not YAML", "channels: [\n", "yaml"},
		{"unknown subject field", "client_cas:\n  A: {ca: a.pem, subject: {o: x}}\n", "field o not found"},
		{"CA missing", "client_cas:\n  A: {subject: {ou: x}}\n", "empty MSP id or CA file"},
		{"bad SAN pattern", "client_cas:\n  A: {ca: a.pem, subject: {san: \"[\"}}\n", "san pattern"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".yaml")
			os.WriteFile(p, []byte(tt.text), 0o600)
			_, err := LoadConfig(p)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseClientCAs(t *testing.T) {
	got, err := ParseClientCAs([]string{"A=a.pem,B=b.pem", "C=c.pem", "A=a.pem"})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"A": "a.pem", "B": "b.pem", "C": "c.pem"}) {
		t.Fatalf("%v, %v", got, err)
	}
	for _, bad := range []string{"A", "=x", "A=", "A=a.pem,A=b.pem"} {
		if _, err := ParseClientCAs([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
