package loadtest

import (
	"encoding/json"
	"flag"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsTheBriefedWorkload(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := []int{c.Functions, c.Samples, c.SampleBatch, c.Plans, c.TasksPerPlan, c.TaskBatch, c.GetTasks, c.Concurrency}
	want := []int{50, 1000, 100, 20, 50, 50, 5000, 8}
	if !slices.Equal(got, want) {
		t.Errorf("sizes %v, want %v", got, want)
	}
	if !slices.Equal(c.Orgs, []string{"MyOrg1MSP", "MyOrg2MSP"}) || c.useTLS() {
		t.Errorf("orgs %v, TLS %t", c.Orgs, c.useTLS())
	}
}

func TestRegisterFlags(t *testing.T) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	err := fs.Parse([]string{
		"--addr", "127.0.0.1:7001", "--channel", "other", "--orgs", " A , B,C ",
		"--functions", "3", "--samples", "9", "--sample-batch", "4", "--plans", "2",
		"--tasks-per-plan", "6", "--task-batch", "3", "--samples-per-task", "2", "--get-tasks", "11",
		"--task-page-size", "5", "--event-page-size", "13", "--read-rounds", "4", "--warm-up", "--concurrency", "2",
		"--call-timeout", "3s", "--deadline", "1m", "--max-errors", "7", "--seed", "99",
		"--build-before-tasks", "--probes=false",
		"--tls-ca", "ca.pem", "--tls-server-name", "orch.example",
		"--client-cert", "A=a.pem,a.key", "--client-cert", "B=b.pem,b.key",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: "127.0.0.1:7001", TLSCA: "ca.pem", TLSServerName: "orch.example",
		ClientCerts: map[string]CertKey{"A": {"a.pem", "a.key"}, "B": {"b.pem", "b.key"}},
		Channel:     "other", Orgs: []string{"A", "B", "C"},
		Functions: 3, Samples: 9, SampleBatch: 4, Plans: 2, TasksPerPlan: 6, TaskBatch: 3, SamplesPerTask: 2,
		GetTasks: 11, TaskPageSize: 5, EventPageSize: 13, ReadRounds: 4, WarmUp: true, BuildBeforeTasks: true, Concurrency: 2,
		CallTimeout: 3 * time.Second, Deadline: time.Minute, MaxErrors: 7, Seed: 99,
	}
	if !equalConfig(c, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if !c.useTLS() {
		t.Error("a CA file does not enable TLS")
	}
	// The defaults show in the usage.
	if f := fs.Lookup("orgs"); f.DefValue != "MyOrg1MSP,MyOrg2MSP" {
		t.Errorf("--orgs default %q", f.DefValue)
	}
}

func equalConfig(a, b Config) bool { return reflect.DeepEqual(a, b) }

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--client-cert", "A=only-cert.pem"}, "want MSPID=CERT_FILE,KEY_FILE"},
		{[]string{"--client-cert", "=a.pem,a.key"}, "want MSPID=CERT_FILE,KEY_FILE"},
		{[]string{"--orgs", " , "}, "empty list"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs)
		if err := fs.Parse(tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no address", func(c *Config) { c.Addr = "" }, "addr: empty"},
		{"no org", func(c *Config) { c.Orgs = nil }, "orgs: none"},
		{"blank org", func(c *Config) { c.Orgs = []string{"A", " "} }, "orgs: empty MSP id"},
		{"no function", func(c *Config) { c.Functions = 0 }, "functions: 0"},
		{"zero batch", func(c *Config) { c.TaskBatch = 0 }, "task-batch: 0"},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency: 0"},
		{"negative read rounds", func(c *Config) { c.ReadRounds = -1 }, "read-rounds: -1"},
		{"no deadline", func(c *Config) { c.Deadline = 0 }, "deadline: 0s"},
		{"cert of a stranger", func(c *Config) { c.ClientCerts = map[string]CertKey{"X": {"x.pem", "x.key"}} }, `"X" is not one of --orgs`},
		{"two problems", func(c *Config) { c.Samples, c.GetTasks = 0, -1 }, "samples: 0, want >= 1\nget-tasks: -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	c := DefaultConfig()
	c.Seed = 7
	c.ClientCerts = map[string]CertKey{"MyOrg1MSP": {"c.pem", "c.key"}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"call_timeout":"30s"`, `"deadline":"15m0s"`, `"tasks_per_plan":50`, `"seed":7`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no %s", b, want)
		}
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !equalConfig(back, c) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, c)
	}
	if err := json.Unmarshal([]byte(`{"deadline":"soon"}`), &back); err == nil {
		t.Error("a bad duration decodes")
	}
}

func TestOrgAddrFlag(t *testing.T) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	err := fs.Parse([]string{
		"--orgs", "Org1MSP,Org2MSP,Org3MSP",
		"--org-addr", "Org1MSP=127.0.0.1:9001",
		"--org-addr", " Org2MSP = facade2.example:9002 , Org1MSP=127.0.0.1:9001,", // the env form; a repeat of the same address is fine
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Org1MSP": "127.0.0.1:9001", "Org2MSP": "facade2.example:9002"}
	if !reflect.DeepEqual(c.OrgAddrs, want) {
		t.Errorf("org-addr %v, want %v", c.OrgAddrs, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for org, addr := range map[string]string{"Org1MSP": "127.0.0.1:9001", "Org2MSP": "facade2.example:9002", "Org3MSP": c.Addr} {
		if got := c.addrOf(org); got != addr {
			t.Errorf("addrOf(%s) = %s, want %s", org, got, addr)
		}
	}
	if got := fs.Lookup("org-addr").Value.String(); got != "Org1MSP=127.0.0.1:9001,Org2MSP=facade2.example:9002" {
		t.Errorf("String() = %q", got)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--org-addr", "127.0.0.1:9001"}, `"127.0.0.1:9001": want MSPID=HOST:PORT`},
		{[]string{"--org-addr", "Org1MSP="}, `"Org1MSP=": want MSPID=HOST:PORT`},
		{[]string{"--org-addr", "=127.0.0.1:9001"}, "want MSPID=HOST:PORT"},
		{[]string{"--org-addr", "Org1MSP=127.0.0.1"}, `Org1MSP: "127.0.0.1": want HOST:PORT`},
		{[]string{"--org-addr", "Org1MSP=:9001"}, `Org1MSP: ":9001": no host`},
		{[]string{"--org-addr", "Org1MSP=host:http"}, `port "http" is not a number in 1-65535`},
		{[]string{"--org-addr", "Org1MSP=host:70000"}, "not a number in 1-65535"},
		{[]string{"--org-addr", " , "}, "want MSPID=HOST:PORT"},
		{[]string{"--org-addr", "Org1MSP=a:1,Org1MSP=b:2"}, "Org1MSP: two addresses, a:1 and b:2"},
		{[]string{"--org-addr", "Org1MSP=a:1", "--org-addr", "Org1MSP=b:2"}, "Org1MSP: two addresses, a:1 and b:2"},
	} {
		c := DefaultConfig()
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs)
		if err := fs.Parse(tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.want)
		}
	}

	// A wrong item leaves the others out too.
	var f orgAddrFlag
	if err := f.Set("A=a:1,B=b"); err == nil || len(f) != 0 {
		t.Errorf("Set with a wrong item: %v, kept %v", err, f)
	}
}

func TestValidateOrgAddrsAndPhases(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"address of a stranger", func(c *Config) { c.OrgAddrs = map[string]string{"Org1MSP": "127.0.0.1:9001"} },
			`org-addr: "Org1MSP" is not one of --orgs (MyOrg1MSP,MyOrg2MSP)`},
		{"bad address", func(c *Config) { c.OrgAddrs = map[string]string{"MyOrg1MSP": "nowhere"} }, `org-addr MyOrg1MSP: "nowhere": want HOST:PORT`},
		{"unknown phase", func(c *Config) { c.Phases = []string{"tasks", "task"} }, `phases: unknown phase "task" (phases: organizations,functions,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTLSConfigPerOrganization(t *testing.T) {
	c := DefaultConfig()
	c.TLS = true
	c.Addr = "default.example:9000"
	c.OrgAddrs = map[string]string{"MyOrg2MSP": "facade2.example:9002"}
	for org, want := range map[string]string{"MyOrg1MSP": "default.example", "MyOrg2MSP": "facade2.example"} {
		tc, err := tlsConfig(&c, org)
		if err != nil {
			t.Fatal(err)
		}
		if tc.ServerName != want {
			t.Errorf("%s: server name %q, want %q", org, tc.ServerName, want)
		}
	}
	c.TLSServerName = "orchestrator.example"
	if tc, err := tlsConfig(&c, "MyOrg2MSP"); err != nil || tc.ServerName != "orchestrator.example" {
		t.Errorf("--tls-server-name: %v, %v; want it for every organization", tc.ServerName, err)
	}
}
