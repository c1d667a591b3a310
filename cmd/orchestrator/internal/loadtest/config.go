package loadtest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is what a run does and where it sends it. Start from
// DefaultConfig; RegisterFlags binds every field to a command line flag.
type Config struct {
	// Addr is the host:port of the server under test: where the calls of
	// every organization without an entry in OrgAddrs go.
	Addr string `json:"addr"`
	// OrgAddrs maps an organization (MSP id) to the host:port of its own
	// server, where every call carrying its mspid header goes: one facade
	// per organization, as on a Fabric network, where a facade refuses the
	// calls of other organizations.
	OrgAddrs map[string]string `json:"org_addrs,omitempty"`
	// TLS enables TLS (implied by TLSCA or ClientCerts); without TLSCA the
	// system roots verify the server.
	TLS bool `json:"tls"`
	// TLSCA is a PEM file of the CA(s) that issued the server certificate.
	TLSCA string `json:"tls_ca,omitempty"`
	// TLSServerName overrides the name checked in the server certificate
	// (of every organization's server); by default it is the host of the
	// address the organization's calls go to.
	TLSServerName string `json:"tls_server_name,omitempty"`
	// ClientCerts maps an organization (MSP id) to the client certificate
	// and key it presents (mutual TLS).
	ClientCerts map[string]CertKey `json:"client_certs,omitempty"`

	// Channel is sent in the "channel" header of every call.
	Channel string `json:"channel"`
	// Orgs are the organizations (MSP ids, sent in the "mspid" header) the
	// run registers and acts as: the first owns the data and executes the
	// tasks, the last owns the functions, plans and tasks (they may be the
	// same).
	Orgs []string `json:"orgs"`

	Functions      int `json:"functions"`        // train functions to register
	Samples        int `json:"samples"`          // data samples to register
	SampleBatch    int `json:"sample_batch"`     // data samples per RegisterDataSamples
	Plans          int `json:"plans"`            // compute plans
	TasksPerPlan   int `json:"tasks_per_plan"`   // chained train tasks per plan
	TaskBatch      int `json:"task_batch"`       // tasks per RegisterTasks
	SamplesPerTask int `json:"samples_per_task"` // data samples each task trains on
	GetTasks       int `json:"get_tasks"`        // random GetTask calls
	TaskPageSize   int `json:"task_page_size"`   // page size of QueryTasks walks
	EventPageSize  int `json:"event_page_size"`  // page size of QueryEvents walks

	// ReadRounds repeats the read phases that walk what the run stored
	// (query-tasks, query-done-tasks, query-events, subscribe-events), each
	// round checked in full: a small state is then read as many times as a
	// large one is read once, so that the two measure alike (0 reads as 1,
	// for reports written before it existed).
	ReadRounds int `json:"read_rounds,omitempty"`

	// ServerMetrics are the Prometheus endpoints of the servers under test
	// (orchestrator --metrics-listen, http://HOST:PORT/metrics): each phase
	// then also reports their CPU per item, and the run their memory. The
	// tool's own CPU (its checks of every answer grow with the state it
	// registered) does not blur those.
	ServerMetrics []string `json:"server_metrics,omitempty"`

	// WarmUp reads once what the read phases read (every plan's tasks, the
	// event log, a replay) in phases of their own before them
	// (warm-up:query-tasks before get-task, warm-up:query-events and
	// warm-up:subscribe-events before query-events), checked like them:
	// the warm-up phases measure first reads, right after the writes, and
	// the read phases a server whose caches hold what they read, as a
	// long-running one does.
	WarmUp bool `json:"warm_up,omitempty"`

	// BuildBeforeTasks reports the function builds right after registering
	// the functions, so that tasks are registered ready to run, instead of
	// after the tasks, which the builds then release.
	BuildBeforeTasks bool `json:"build_before_tasks"`

	// Phases, when not empty, names the phases to run; the phases whose
	// results they use run too, before them (--phases tasks also runs
	// organizations, functions, data and plans). Empty: every phase.
	Phases []string `json:"phases,omitempty"`

	// Probes sends, after the task queries, a few requests the API must
	// refuse (unknown task, duplicate task, wrong organization, model too
	// early, invalid function) and checks the gRPC code of each refusal.
	Probes bool `json:"probes"`

	// Concurrency is how many goroutines share the work of a phase.
	Concurrency int `json:"concurrency"`
	// CallTimeout bounds every unary call.
	CallTimeout time.Duration `json:"call_timeout"`
	// Deadline bounds the whole run; the run stops by itself when it passes.
	Deadline time.Duration `json:"deadline"`
	// MaxErrors stops the run once that many errors have been counted
	// (0: never stop early).
	MaxErrors int `json:"max_errors"`
	// Seed derives every key of the run; 0 picks one from the clock. Two
	// runs with the same seed against the same server collide (AlreadyExists).
	Seed int64 `json:"seed"`
}

// configJSON is Config with readable durations.
type configJSON struct {
	plainConfig
	CallTimeout string `json:"call_timeout"`
	Deadline    string `json:"deadline"`
}

type plainConfig Config

// MarshalJSON writes c with its durations as strings ("30s").
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{plainConfig(c), c.CallTimeout.String(), c.Deadline.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Config) UnmarshalJSON(b []byte) error {
	var j configJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Config(j.plainConfig)
	var err error
	if c.CallTimeout, err = parseDuration(j.CallTimeout); err != nil {
		return fmt.Errorf("call_timeout: %w", err)
	}
	if c.Deadline, err = parseDuration(j.Deadline); err != nil {
		return fmt.Errorf("deadline: %w", err)
	}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// CertKey is a PEM certificate file and its private key file.
type CertKey struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// DefaultConfig returns the full-size workload against 127.0.0.1:9000.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:9000",
		Channel:        "mychannel",
		Orgs:           []string{"MyOrg1MSP", "MyOrg2MSP"},
		Functions:      50,
		Samples:        1000,
		SampleBatch:    100,
		Plans:          20,
		TasksPerPlan:   50,
		TaskBatch:      50,
		SamplesPerTask: 10,
		GetTasks:       5000,
		TaskPageSize:   20,
		EventPageSize:  200,
		ReadRounds:     1,
		Concurrency:    8,
		CallTimeout:    30 * time.Second,
		Deadline:       15 * time.Minute,
		MaxErrors:      100,
		Probes:         true,
	}
}

// RegisterFlags defines one flag per field of c on fs, with the current
// values of c as defaults; parsing fs then sets c.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "host:port of the server under test; the calls of the organizations without --org-addr go there")
	fs.Var((*orgAddrFlag)(&c.OrgAddrs), "org-addr", "MSPID=HOST:PORT: send every call whose mspid header is MSPID to HOST:PORT instead of --addr "+
		"(one facade per organization, as on Fabric, where a facade refuses other organizations' calls); repeatable, or several separated by commas")
	fs.BoolVar(&c.TLS, "tls", c.TLS, "use TLS (implied by --tls-ca and --client-cert); without --tls-ca the system roots verify the server")
	fs.StringVar(&c.TLSCA, "tls-ca", c.TLSCA, "PEM file of the CA(s) that issued the server certificate(s) (one file may hold the CAs of several facades); enables TLS")
	fs.StringVar(&c.TLSServerName, "tls-server-name", c.TLSServerName, "name to verify in the server certificate of every organization (default: the host of the address its calls go to)")
	fs.Var((*certFlag)(&c.ClientCerts), "client-cert", "MSPID=CERT_FILE,KEY_FILE: the client certificate organization MSPID presents (repeatable); enables TLS")
	fs.StringVar(&c.Channel, "channel", c.Channel, "channel header of every call")
	fs.Var((*listFlag)(&c.Orgs), "orgs", "comma-separated MSP ids: the first owns the data and executes the tasks, the last owns functions, plans and tasks")
	fs.IntVar(&c.Functions, "functions", c.Functions, "train functions to register")
	fs.IntVar(&c.Samples, "samples", c.Samples, "data samples to register")
	fs.IntVar(&c.SampleBatch, "sample-batch", c.SampleBatch, "data samples per RegisterDataSamples call")
	fs.IntVar(&c.Plans, "plans", c.Plans, "compute plans; the tasks phase makes plans x ceil(tasks-per-plan / task-batch) RegisterTasks calls "+
		"(20 by default: their p99 is then the slowest of them; more plans give a real tail)")
	fs.IntVar(&c.TasksPerPlan, "tasks-per-plan", c.TasksPerPlan, "chained train tasks per compute plan")
	fs.IntVar(&c.TaskBatch, "task-batch", c.TaskBatch, "tasks per RegisterTasks call")
	fs.IntVar(&c.SamplesPerTask, "samples-per-task", c.SamplesPerTask, "data samples each task trains on")
	fs.IntVar(&c.GetTasks, "get-tasks", c.GetTasks, "random GetTask calls")
	fs.IntVar(&c.TaskPageSize, "task-page-size", c.TaskPageSize, "page size of the QueryTasks walks")
	fs.IntVar(&c.EventPageSize, "event-page-size", c.EventPageSize, "page size of the QueryEvents walks")
	fs.IntVar(&c.ReadRounds, "read-rounds", c.ReadRounds, "times the query-tasks, query-done-tasks, query-events and subscribe-events phases read everything "+
		"(to compare a small state with a large one over as many items)")
	fs.Var((*listFlag)(&c.ServerMetrics), "server-metrics", "URLs of the metrics endpoints of the servers under test (orchestrator --metrics-listen, http://HOST:PORT/metrics), comma-separated: "+
		"each phase also reports their CPU per item, the run their memory")
	fs.BoolVar(&c.WarmUp, "warm-up", c.WarmUp, "read the tasks, the event log and a replay once before the read phases, in warm-up:* phases of their own "+
		"(first reads; the read phases then measure warm caches)")
	fs.BoolVar(&c.BuildBeforeTasks, "build-before-tasks", c.BuildBeforeTasks, "build the functions right after registering them (tasks start ready) instead of after the tasks (the builds release them)")
	fs.Var((*listFlag)(&c.Phases), "phases", "comma-separated phases to run, with the phases they need before them "+
		"(--phases tasks: organizations, functions, data, plans, tasks); default all: "+strings.Join(phaseNames(), ","))
	fs.BoolVar(&c.Probes, "probes", c.Probes, "check that the API refuses a few invalid requests with the reference's codes (--probes=false: skip)")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "goroutines sharing the work of each phase")
	fs.DurationVar(&c.CallTimeout, "call-timeout", c.CallTimeout, "timeout of every unary call")
	fs.DurationVar(&c.Deadline, "deadline", c.Deadline, "the run stops when this much time has passed")
	fs.IntVar(&c.MaxErrors, "max-errors", c.MaxErrors, "stop the run after this many errors (0: never)")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "seed of every key of the run (0: from the clock); reusing one against the same server collides")
}

// Validate reports the first problem of c.
func (c *Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Addr != "", "addr: empty")
	check(c.Channel != "", "channel: empty")
	check(len(c.Orgs) > 0, "orgs: none")
	for _, o := range c.Orgs {
		check(strings.TrimSpace(o) != "", "orgs: empty MSP id")
	}
	check(c.Functions >= 1, "functions: %d, want >= 1", c.Functions)
	check(c.Samples >= 1, "samples: %d, want >= 1", c.Samples)
	check(c.SampleBatch >= 1, "sample-batch: %d, want >= 1", c.SampleBatch)
	check(c.Plans >= 0, "plans: %d, want >= 0", c.Plans)
	check(c.TasksPerPlan >= 1, "tasks-per-plan: %d, want >= 1", c.TasksPerPlan)
	check(c.TaskBatch >= 1, "task-batch: %d, want >= 1", c.TaskBatch)
	check(c.SamplesPerTask >= 1, "samples-per-task: %d, want >= 1", c.SamplesPerTask)
	check(c.GetTasks >= 0, "get-tasks: %d, want >= 0", c.GetTasks)
	check(c.TaskPageSize >= 1, "task-page-size: %d, want >= 1", c.TaskPageSize)
	check(c.EventPageSize >= 1, "event-page-size: %d, want >= 1", c.EventPageSize)
	check(c.ReadRounds >= 0, "read-rounds: %d, want >= 1", c.ReadRounds)
	check(c.Concurrency >= 1, "concurrency: %d, want >= 1", c.Concurrency)
	check(c.CallTimeout > 0, "call-timeout: %v, want > 0", c.CallTimeout)
	check(c.Deadline > 0, "deadline: %v, want > 0", c.Deadline)
	check(c.MaxErrors >= 0, "max-errors: %d, want >= 0", c.MaxErrors)
	for _, u := range c.ServerMetrics {
		pu, err := url.Parse(u)
		check(err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != "", "server-metrics: %q is not an http(s) URL", u)
	}
	for _, name := range c.Phases {
		check(slices.Contains(phaseNames(), name), "phases: unknown phase %q (phases: %s)", name, strings.Join(phaseNames(), ","))
	}
	for _, org := range slices.Sorted(maps.Keys(c.OrgAddrs)) {
		check(slices.Contains(c.Orgs, org), "org-addr: %q is not one of --orgs (%s)", org, strings.Join(c.Orgs, ","))
		if err := checkHostPort(c.OrgAddrs[org]); err != nil {
			errs = append(errs, fmt.Errorf("org-addr %s: %w", org, err))
		}
	}
	for org, ck := range c.ClientCerts {
		check(slices.Contains(c.Orgs, org), "client-cert: %q is not one of --orgs", org)
		check(ck.Cert != "" && ck.Key != "", "client-cert %s: want CERT_FILE,KEY_FILE", org)
	}
	return errors.Join(errs...)
}

// rounds is how many times the read phases read everything.
func (c *Config) rounds() int { return max(c.ReadRounds, 1) }

// useTLS tells whether the run connects with TLS.
func (c *Config) useTLS() bool { return c.TLS || c.TLSCA != "" || len(c.ClientCerts) > 0 }

// addrOf returns the address the calls of organization mspid go to.
func (c *Config) addrOf(mspid string) string {
	if a, ok := c.OrgAddrs[mspid]; ok {
		return a
	}
	return c.Addr
}

// checkHostPort checks that addr is HOST:PORT with a host and a port
// number.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want HOST:PORT", addr)
	}
	if host == "" {
		return fmt.Errorf("%q: no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number in 1-65535", addr, port)
	}
	return nil
}

// orgAddrFlag collects MSPID=HOST:PORT items, from repeated flags or
// several in one value, separated by commas (ORCHESTRATOR_ORG_ADDR).
type orgAddrFlag map[string]string

func (f *orgAddrFlag) String() string {
	if f == nil || *f == nil {
		return ""
	}
	var items []string
	for org, addr := range *f {
		items = append(items, org+"="+addr)
	}
	slices.Sort(items)
	return strings.Join(items, ",")
}

// Set adds the comma-separated MSPID=HOST:PORT items of v; it adds none
// when one is wrong, and refuses a second address for an organization.
func (f *orgAddrFlag) Set(v string) error {
	add := map[string]string{}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		org, addr, ok := strings.Cut(item, "=")
		org, addr = strings.TrimSpace(org), strings.TrimSpace(addr)
		if !ok || org == "" || addr == "" {
			return fmt.Errorf("%q: want MSPID=HOST:PORT", item)
		}
		if err := checkHostPort(addr); err != nil {
			return fmt.Errorf("%s: %w", org, err)
		}
		prev, seen := add[org]
		if !seen && *f != nil {
			prev, seen = (*f)[org]
		}
		if seen && prev != addr {
			return fmt.Errorf("%s: two addresses, %s and %s", org, prev, addr)
		}
		add[org] = addr
	}
	if len(add) == 0 {
		return errors.New("want MSPID=HOST:PORT")
	}
	if *f == nil {
		*f = map[string]string{}
	}
	maps.Copy(*f, add)
	return nil
}

// listFlag is a comma-separated list flag; setting it replaces the list.
type listFlag []string

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

// Set replaces the list with the comma-separated items of v.
func (l *listFlag) Set(v string) error {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	if len(out) == 0 {
		return errors.New("empty list")
	}
	*l = out
	return nil
}

// certFlag collects MSPID=CERT_FILE,KEY_FILE items.
type certFlag map[string]CertKey

func (f *certFlag) String() string {
	if f == nil || *f == nil {
		return ""
	}
	var items []string
	for org, ck := range *f {
		items = append(items, org+"="+ck.Cert+","+ck.Key)
	}
	slices.Sort(items)
	return strings.Join(items, " ")
}

// Set adds one MSPID=CERT_FILE,KEY_FILE item.
func (f *certFlag) Set(v string) error {
	org, files, ok := strings.Cut(v, "=")
	cert, key, ok2 := strings.Cut(files, ",")
	if !ok || !ok2 || org == "" || cert == "" || key == "" {
		return fmt.Errorf("%q: want MSPID=CERT_FILE,KEY_FILE", v)
	}
	if *f == nil {
		*f = map[string]CertKey{}
	}
	(*f)[org] = CertKey{Cert: cert, Key: key}
	return nil
}
