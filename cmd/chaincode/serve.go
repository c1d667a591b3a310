package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// The environment variables that configure the chaincode. When both
// envAddress and envID are set the binary serves the chaincode itself
// (chaincode-as-a-service); otherwise a peer launched it and it dials back
// to that peer, configured by the variables the peer sets (CORE_PEER_*).
const (
	// envAddress is the host:port the chaincode server listens on.
	envAddress = "CHAINCODE_SERVER_ADDRESS"
	// envID is the chaincode package id the peer knows it by ("label:hash").
	envID = "CHAINCODE_ID"
	// envTLSDisabled turns TLS off when set to a true value ("true", "1").
	envTLSDisabled = "CHAINCODE_TLS_DISABLED"
	// envTLSKey is the file holding the server's PEM private key.
	envTLSKey = "CHAINCODE_TLS_KEY"
	// envTLSCert is the file holding the server's PEM certificate.
	envTLSCert = "CHAINCODE_TLS_CERT"
	// envClientCA is the file holding the PEM CA certificates that sign the
	// peers' client certificates; when set, peers must present one.
	envClientCA = "CHAINCODE_CLIENT_CA_CERT"
)

// serverConfig is the chaincode-as-a-service configuration.
type serverConfig struct {
	Address string
	ID      string
	TLS     shim.TLSProperties
}

// serverConfigFromEnv reads the chaincode-as-a-service configuration. ok is
// false when the environment asks for a peer-launched chaincode instead.
func serverConfigFromEnv(getenv func(string) string) (cfg serverConfig, ok bool, err error) {
	cfg.Address, cfg.ID = getenv(envAddress), getenv(envID)
	switch {
	case cfg.Address == "" && cfg.ID == "":
		return serverConfig{}, false, nil
	case cfg.Address == "":
		return serverConfig{}, false, fmt.Errorf("%s is set but %s is not", envID, envAddress)
	case cfg.ID == "":
		return serverConfig{}, false, fmt.Errorf("%s is set but %s is not", envAddress, envID)
	}
	if v := getenv(envTLSDisabled); v != "" {
		disabled, err := strconv.ParseBool(v)
		if err != nil {
			return serverConfig{}, false, fmt.Errorf("%s: %w", envTLSDisabled, err)
		}
		cfg.TLS.Disabled = disabled
	}
	if cfg.TLS.Disabled {
		return cfg, true, nil
	}
	keyFile, certFile := getenv(envTLSKey), getenv(envTLSCert)
	if keyFile == "" || certFile == "" {
		return serverConfig{}, false, fmt.Errorf("TLS needs %s and %s (or %s=true)", envTLSKey, envTLSCert, envTLSDisabled)
	}
	if cfg.TLS.Key, err = os.ReadFile(keyFile); err != nil {
		return serverConfig{}, false, fmt.Errorf("%s: %w", envTLSKey, err)
	}
	if cfg.TLS.Cert, err = os.ReadFile(certFile); err != nil {
		return serverConfig{}, false, fmt.Errorf("%s: %w", envTLSCert, err)
	}
	if caFile := getenv(envClientCA); caFile != "" {
		if cfg.TLS.ClientCACerts, err = os.ReadFile(caFile); err != nil {
			return serverConfig{}, false, fmt.Errorf("%s: %w", envClientCA, err)
		}
	}
	return cfg, true, nil
}

// run builds the chaincode and serves it until the server or the peer
// connection ends.
func run(newChaincode func() (shim.Chaincode, error), getenv func(string) string) error {
	cfg, asService, err := serverConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	cc, err := newChaincode()
	if err != nil {
		return fmt.Errorf("build chaincode: %w", err)
	}
	if !asService {
		if getenv("CORE_CHAINCODE_ID_NAME") == "" {
			return errors.New("no chaincode server configured: set " + envAddress + " and " + envID +
				" to serve as a chaincode-as-a-service, or let a peer launch this binary")
		}
		return shim.Start(cc)
	}
	srv := &shim.ChaincodeServer{CCID: cfg.ID, Address: cfg.Address, CC: cc, TLSProps: cfg.TLS}
	tlsMode := "TLS"
	switch {
	case cfg.TLS.Disabled:
		tlsMode = "no TLS"
	case len(cfg.TLS.ClientCACerts) > 0:
		tlsMode = "mutual TLS"
	}
	log.Printf("chaincode %s: serving on %s (%s)", cfg.ID, cfg.Address, tlsMode)
	return srv.Start()
}
