package solo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// Identity is the creator of a transaction: an MSP id and an X.509
// certificate in PEM. With an empty CertPEM, solo uses a self-signed
// certificate generated once per MSP id and Peer (common name
// "solo-<MSPID>", organization MSPID).
type Identity struct {
	MSPID   string
	CertPEM []byte
}

// maxGenerated bounds the generated certificates that identities keeps.
const maxGenerated = 256

// identities caches serialized creators by MSP id and certificate.
type identities struct {
	mu    sync.Mutex
	certs map[string][]byte // generated certificate per MSP id
	ser   map[[2]string][]byte
}

// serialize returns the msp.SerializedIdentity bytes for id.
func (c *identities) serialize(id Identity) ([]byte, error) {
	if id.MSPID == "" {
		return nil, errors.New("solo: creator MSP id is empty")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]string{id.MSPID, string(id.CertPEM)}
	if b, ok := c.ser[k]; ok {
		return b, nil
	}
	cert := id.CertPEM
	if len(cert) == 0 {
		var ok bool
		if cert, ok = c.certs[id.MSPID]; !ok {
			var err error
			if cert, err = selfSignedCert(id.MSPID); err != nil {
				return nil, err
			}
			if c.certs == nil {
				c.certs = map[string][]byte{}
			}
			if len(c.certs) >= maxGenerated {
				// Callers choose MSP ids (a header, without client
				// certificates): forget one, which only gets a new
				// certificate on its next call.
				for k := range c.certs {
					delete(c.certs, k)
					break
				}
			}
			c.certs[id.MSPID] = cert
		}
	}
	b, err := proto.Marshal(&msp.SerializedIdentity{Mspid: id.MSPID, IdBytes: cert})
	if err != nil {
		return nil, fmt.Errorf("solo: serialize creator: %w", err)
	}
	if c.ser == nil {
		c.ser = map[[2]string][]byte{}
	}
	if len(c.ser) > 1024 { // bound the cache; callers may send many certificates
		clear(c.ser)
	}
	c.ser[k] = b
	return b, nil
}

func selfSignedCert(mspID string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("solo: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("solo: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "solo-" + mspID, Organization: []string{mspID}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("solo: create certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
