package ledger

import (
	"strings"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// compositeKey returns shim.CreateCompositeKey(object, attrs), with the
// same errors, in one allocation. The shim validates every attribute rune
// by rune and concatenates the key piece by piece (an allocation per
// attribute); state keys are built for every read and write, so the
// common case of ASCII attributes is served here and anything else is
// left to the shim, which then also reports the exact error.
func compositeKey(object string, attrs ...string) (string, error) {
	if !plainAttr(object) {
		return shim.CreateCompositeKey(object, attrs)
	}
	for _, a := range attrs {
		if !plainAttr(a) {
			return shim.CreateCompositeKey(object, attrs)
		}
	}
	return joinKey(object, attrs...), nil
}

// joinKey builds the composite key (object, attrs...) of attributes known
// to be valid, in one allocation.
func joinKey(object string, attrs ...string) string {
	n := 2 + len(object)
	for _, a := range attrs {
		n += len(a) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(0)
	b.WriteString(object)
	b.WriteByte(0)
	for _, a := range attrs {
		b.WriteString(a)
		b.WriteByte(0)
	}
	return b.String()
}

// plainAttr reports whether a is ASCII without U+0000: such an attribute
// is valid in a composite key (U+10FFFF, the other forbidden rune, is not
// ASCII).
func plainAttr(a string) bool {
	for i := 0; i < len(a); i++ {
		if c := a[i]; c == 0 || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
