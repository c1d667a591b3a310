package solo

import (
	"fmt"
	"testing"
)

func TestIdentitiesBounded(t *testing.T) {
	var c identities
	first, err := c.serialize(Identity{MSPID: "Org0MSP"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.serialize(Identity{MSPID: "Org0MSP"})
	if string(first) != string(again) {
		t.Error("one MSP id got two certificates while the cache had room")
	}
	for i := range 3 * maxGenerated {
		if _, err := c.serialize(Identity{MSPID: fmt.Sprintf("Org%dMSP", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.certs) > maxGenerated || len(c.ser) > 1025 {
		t.Fatalf("caches hold %d certificates and %d identities, bounds %d and 1025", len(c.certs), len(c.ser), maxGenerated)
	}
}
