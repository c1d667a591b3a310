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
//
// Without channels, every channel is open to every organization. Relative
// paths are relative to the configuration file.
type Config struct {
	Channels  map[string][]string `yaml:"channels"`
	ClientCAs map[string]string   `yaml:"client_cas"`
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
	for msp, f := range c.ClientCAs {
		if f != "" && !filepath.IsAbs(f) {
			c.ClientCAs[msp] = filepath.Join(dir, f)
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
		if strings.TrimSpace(msp) == "" || c.ClientCAs[msp] == "" {
			return fmt.Errorf("client_cas: empty MSP id or file")
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

// loadCAs reads the CA certificates of each MSP id.
func loadCAs(files map[string]string) (map[string]*x509.CertPool, *x509.CertPool, error) {
	perOrg := map[string]*x509.CertPool{}
	all := x509.NewCertPool()
	for _, msp := range slices.Sorted(maps.Keys(files)) {
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
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("client CA of %s: no PEM certificate in %s", msp, files[msp])
		}
		perOrg[msp] = pool
	}
	return perOrg, all, nil
}
