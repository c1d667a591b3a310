package server

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the optional YAML configuration file:
//
//	channels:            # which organizations (MSP ids) may use which channel
//	  mychannel: [Org1MSP, Org2MSP]
//	client_cas:          # the CA (PEM file) that issues each organization's client certificates
//	  Org1MSP: certs/org1-ca.pem
//	  Org2MSP:             # or a CA and the subject rule of the organization's members
//	    ca: certs/shared-ca.pem
//	    subject: {organization: Org2, ou: [client], san: "*.org2.example.com"}
//
// Without channels, every channel is open to every organization. Relative
// paths are relative to the configuration file.
type Config struct {
	Channels  map[string][]string `yaml:"channels"`
	ClientCAs map[string]ClientCA `yaml:"client_cas"`
}

// ClientCA says which client certificates belong to one MSP id: those
// issued by the CA in the PEM file CA whose subject matches Subject, as a
// Fabric MSP identifies its members by CA and organizational unit.
type ClientCA struct {
	CA      string      `yaml:"ca"`
	Subject SubjectRule `yaml:"subject"`
}

// UnmarshalYAML accepts the short form "MSPID: file" as well as the mapping.
func (c *ClientCA) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*c = ClientCA{CA: n.Value}
		return nil
	}
	if err := knownKeys(n, "ca", "subject"); err != nil {
		return err
	}
	if err := knownKeys(mapValue(n, "subject"), "organization", "ou", "san"); err != nil {
		return err
	}
	type plain ClientCA
	return n.Decode((*plain)(c))
}

// knownKeys refuses a mapping with a key not in keys (Node.Decode does not
// inherit the decoder's KnownFields).
func knownKeys(n *yaml.Node, keys ...string) error {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(keys, k) {
			return fmt.Errorf("line %d: field %s not found (want one of %s)", n.Content[i].Line, k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// mapValue returns the value of key in a mapping node, nil if absent.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// SubjectRule is what a member's certificate must show, each set field
// being required: one of the certificate's subject organizations (O) in
// Organization, one of its organizational units (OU) in OU, and one of its
// subject alternative names (DNS name, e-mail address or URI) matching the
// pattern SAN (path.Match syntax: "*.org1.example.com"). The zero rule
// accepts every certificate of the CA.
type SubjectRule struct {
	Organization stringList `yaml:"organization"`
	OU           stringList `yaml:"ou"`
	SAN          string     `yaml:"san"`
}

// IsZero reports whether the rule checks nothing.
func (r SubjectRule) IsZero() bool {
	return len(r.Organization) == 0 && len(r.OU) == 0 && r.SAN == ""
}

// String describes the rule, for messages.
func (r SubjectRule) String() string {
	var parts []string
	if len(r.Organization) > 0 {
		parts = append(parts, "organization in ["+strings.Join(r.Organization, ", ")+"]")
	}
	if len(r.OU) > 0 {
		parts = append(parts, "OU in ["+strings.Join(r.OU, ", ")+"]")
	}
	if r.SAN != "" {
		parts = append(parts, "a SAN matching "+r.SAN)
	}
	if len(parts) == 0 {
		return "any subject"
	}
	return strings.Join(parts, " and ")
}

// stringList is a YAML sequence of strings that may be written as one
// string.
type stringList []string

// UnmarshalYAML accepts a scalar or a sequence.
func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = stringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// LoadConfig reads and checks the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for msp, ca := range c.ClientCAs {
		if ca.CA != "" && !filepath.IsAbs(ca.CA) {
			ca.CA = filepath.Join(dir, ca.CA)
			c.ClientCAs[msp] = ca
		}
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) check() error {
	for _, ch := range slices.Sorted(maps.Keys(c.Channels)) {
		if !validChannel(ch) {
			return fmt.Errorf("channel %q: invalid name (want [a-z][a-z0-9.-]*, at most 249 characters)", ch)
		}
		if len(c.Channels[ch]) == 0 {
			return fmt.Errorf("channel %q: no organization", ch)
		}
		for _, org := range c.Channels[ch] {
			if strings.TrimSpace(org) == "" {
				return fmt.Errorf("channel %q: empty organization name", ch)
			}
		}
	}
	for _, msp := range slices.Sorted(maps.Keys(c.ClientCAs)) {
		if strings.TrimSpace(msp) == "" || c.ClientCAs[msp].CA == "" {
			return fmt.Errorf("client_cas: empty MSP id or CA file")
		}
		if p := c.ClientCAs[msp].Subject.SAN; p != "" {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("client_cas: %s: san pattern %q: %w", msp, p, err)
			}
		}
	}
	return nil
}

// ParseClientCAs parses "MSPID=FILE" items (as given to --client-ca).
func ParseClientCAs(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, it := range items {
		for part := range strings.SplitSeq(it, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			msp, file, ok := strings.Cut(part, "=")
			if !ok || msp == "" || file == "" {
				return nil, fmt.Errorf("--client-ca %q: want MSPID=FILE", part)
			}
			if prev, dup := out[msp]; dup && prev != file {
				return nil, fmt.Errorf("--client-ca: two CA files for %s", msp)
			}
			out[msp] = file
		}
	}
	return out, nil
}

// member is what the server checks of the client certificate of one MSP
// id.
type member struct {
	pool    *x509.CertPool
	subject SubjectRule
}

// loadCAs reads the CA certificates of each MSP id, and the pool of them
// all. Two MSP ids whose CAs share a certificate must each have a subject
// rule, or the members of one could act as the other.
func loadCAs(cas map[string]ClientCA) (map[string]member, *x509.CertPool, error) {
	perOrg := map[string]member{}
	all := x509.NewCertPool()
	owner := map[string]string{} // CA certificate DER -> first MSP id
	for _, msp := range slices.Sorted(maps.Keys(cas)) {
		files := map[string]string{msp: cas[msp].CA}
		b, err := os.ReadFile(files[msp])
		if err != nil {
			return nil, nil, fmt.Errorf("client CA of %s: %w", msp, err)
		}
		pool := x509.NewCertPool()
		n := 0
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("client CA of %s (%s): %w", msp, files[msp], err)
			}
			pool.AddCert(cert)
			all.AddCert(cert)
			n++
			if other, ok := owner[string(cert.Raw)]; ok && other != msp &&
				(cas[other].Subject.IsZero() || cas[msp].Subject.IsZero()) {
				return nil, nil, fmt.Errorf("client CAs of %s and %s share the CA %q: give each a subject rule (client_cas: {MSPID: {ca: FILE, subject: {organization: ..., ou: ..., san: ...}}}) so that one cannot act as the other", other, msp, cert.Subject.String())
			}
			owner[string(cert.Raw)] = msp
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("client CA of %s: no PEM certificate in %s", msp, files[msp])
		}
		perOrg[msp] = member{pool: pool, subject: cas[msp].Subject}
	}
	return perOrg, all, nil
}
