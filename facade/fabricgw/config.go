package fabricgw

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Config says which peer a Gateway talks to, as whom, and where.
type Config struct {
	// PeerEndpoint is the host:port of the peer's gateway service.
	PeerEndpoint string
	// PeerTLSCA is a PEM file with the CA certificates of the peer's TLS
	// server certificate.
	PeerTLSCA string
	// PeerHostOverride, when set, is the name checked against the peer's TLS
	// certificate instead of PeerEndpoint's host.
	PeerHostOverride string
	// MSPID is the organization the Gateway acts for.
	MSPID string
	// Cert is a PEM file with the organization member's signing certificate.
	Cert string
	// Key is a PEM file with that member's private key, or a directory
	// (an MSP keystore) holding exactly one such file.
	Key string
	// Channel is the channel used when a call names none.
	Channel string
	// Channels are the channels the Gateway serves, Channel among them
	// (just Channel when empty): a call naming another one is refused
	// with PermissionDenied, without asking the peer.
	Channels []string
	// StateDir, when set, is a folder where the Gateway keeps its event
	// checkpoint (which block holds each recently streamed event), so
	// that after a restart a subscription resuming after one of those
	// events starts reading at its block instead of searching the chain.
	StateDir string
	// Chaincode is the name the orchestrator chaincode is committed under.
	Chaincode string
	// EvaluateTimeout bounds an Evaluate call.
	EvaluateTimeout time.Duration
	// SubmitTimeout bounds a Submit call: endorsement, ordering, commit,
	// and the retries after read conflicts.
	SubmitTimeout time.Duration
	// ConflictRetries is how many times a Submit that failed to commit
	// because of an MVCC or phantom read conflict is run again; also one
	// that only other organizations' peers refused to endorse.
	ConflictRetries int
	// PlainPayloads makes Submit send its requests plain, so that the
	// chaincode answers and sets its events plain too. By default they go
	// in compact form (protos/compactwire), which the chaincode then
	// answers in and which shrinks what the blocks store of each
	// transaction; a chaincode older than that form needs plain requests.
	// Answers and events are read in either form whatever this says.
	PlainPayloads bool
}

// Defaults of the Config fields.
const (
	DefaultChannel         = "mychannel"
	DefaultChaincode       = "orchestrator"
	DefaultEvaluateTimeout = 10 * time.Second
	DefaultSubmitTimeout   = 60 * time.Second
	DefaultConflictRetries = 5
)

// RegisterFlags defines the Config flags on fs and returns the Config they
// fill in when fs is parsed.
func RegisterFlags(fs *flag.FlagSet) *Config {
	c := new(Config)
	fs.StringVar(&c.PeerEndpoint, "peer-endpoint", "127.0.0.1:7051", "host:port of the peer's Fabric gateway")
	fs.StringVar(&c.PeerTLSCA, "peer-tls-ca", "", "PEM file with the CA certificates of the peer's TLS certificate")
	fs.StringVar(&c.PeerHostOverride, "peer-host-override", "", "server name to check the peer's TLS certificate against (default: the endpoint's host)")
	fs.StringVar(&c.MSPID, "mspid", "", "MSP id of the organization this facade acts for")
	fs.StringVar(&c.Cert, "cert", "", "PEM file with the organization member's signing certificate")
	fs.StringVar(&c.Key, "key", "", "PEM file (or keystore directory holding one) with the member's private key")
	fs.Var((*channelsFlag)(c), "channel", "channel served (repeatable or comma-separated); the first is used when a request names none (default "+DefaultChannel+")")
	fs.StringVar(&c.StateDir, "state-dir", "", "folder for the event checkpoint, so that a restarted facade resumes event streams without searching the chain (default: none)")
	fs.StringVar(&c.Chaincode, "chaincode", DefaultChaincode, "name of the committed orchestrator chaincode")
	fs.DurationVar(&c.EvaluateTimeout, "evaluate-timeout", DefaultEvaluateTimeout, "deadline of a read (evaluate) call")
	fs.DurationVar(&c.SubmitTimeout, "submit-timeout", DefaultSubmitTimeout, "deadline of a write (submit) call, retries included")
	fs.IntVar(&c.ConflictRetries, "conflict-retries", DefaultConflictRetries, "how many times a transaction failing on a read conflict (or refused only by other organizations' peers) is run again")
	fs.BoolVar(&c.PlainPayloads, "plain-payloads", false, "send transactions' requests plain instead of compact, for a chaincode that predates compact payloads (answers and events are read in either form)")
	return c
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Channel == "" {
		c.Channel = DefaultChannel
		if len(c.Channels) > 0 {
			c.Channel = c.Channels[0]
		}
	}
	if !slices.Contains(c.Channels, c.Channel) {
		c.Channels = append([]string{c.Channel}, c.Channels...)
	}
	if c.Chaincode == "" {
		c.Chaincode = DefaultChaincode
	}
	if c.EvaluateTimeout <= 0 {
		c.EvaluateTimeout = DefaultEvaluateTimeout
	}
	if c.SubmitTimeout <= 0 {
		c.SubmitTimeout = DefaultSubmitTimeout
	}
	if c.ConflictRetries < 0 {
		c.ConflictRetries = 0
	}
	return c
}

// validate reports the first missing setting.
func (c Config) validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"peer-endpoint", c.PeerEndpoint},
		{"peer-tls-ca", c.PeerTLSCA},
		{"mspid", c.MSPID},
		{"cert", c.Cert},
		{"key", c.Key},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("fabric gateway configuration: missing %v", missing)
	}
	return nil
}

// serves reports whether the Gateway serves channel name.
func (c Config) serves(name string) bool { return slices.Contains(c.Channels, name) }

// channelsFlag is the --channel flag: each value (or comma-separated
// part of one) adds a channel; the first one becomes the default.
type channelsFlag Config

func (f *channelsFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.Channels, ",")
}

// Set adds the channels of v.
func (f *channelsFlag) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return errors.New("empty channel name")
		}
		if !slices.Contains(f.Channels, name) {
			f.Channels = append(f.Channels, name)
		}
	}
	f.Channel = f.Channels[0]
	return nil
}

// readKeyFile reads the private key at path, or the single file in the
// directory at path.
func readKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return os.ReadFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, e.Name())
		}
	}
	switch len(files) {
	case 0:
		return nil, errors.New(path + ": no key file in directory")
	case 1:
		return os.ReadFile(filepath.Join(path, files[0]))
	}
	return nil, fmt.Errorf("%s: %d files in key directory, want one", path, len(files))
}
