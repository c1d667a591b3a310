// Package validation holds the field checks shared by the orchestrator
// contracts. Every failed check is an *orcerr.Error of kind InvalidAsset
// (OE0101) whose message names the field.
package validation

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/fedchain/orchestrator/protos/eventwire"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// MaxNameLength is the longest name (in characters) an asset may have.
const MaxNameLength = 100

// MaxMetadataLength is the longest metadata key or value (in bytes).
const MaxMetadataLength = 100

// Asset names the asset whose validation failed, as the reference
// orchestrator does: an InvalidAsset error err becomes "<kind> is not valid:
// <err's message>" (kind as the reference names it: "computetask",
// "datamanager"), the words its clients look for. Any other error, and nil,
// is returned as is.
func Asset(kind string, err error) error {
	var e *orcerr.Error
	if !errors.As(err, &e) || e.Kind != orcerr.InvalidAsset {
		return err
	}
	return &orcerr.Error{Kind: orcerr.InvalidAsset, Msg: kind + " is not valid: " + e.Msg, Err: e.Err}
}

func invalid(field, format string, args ...any) error {
	return orcerr.New(orcerr.InvalidAsset, "invalid "+field+": "+format, args...)
}

// Required fails when v is empty.
func Required(field, v string) error {
	if v == "" {
		return invalid(field, "cannot be blank")
	}
	return nil
}

// IsUUID reports whether s is a UUID in canonical lower-case form. Asset
// keys and event ids share that form; its one statement is the event
// wire's (eventwire.IsID), which the facades use without the contracts.
func IsUUID(s string) bool { return eventwire.IsID(s) }

// UUID fails when v is empty or not a UUID.
func UUID(field, v string) error {
	if err := Required(field, v); err != nil {
		return err
	}
	if !IsUUID(v) {
		return invalid(field, "must be a valid UUID (got %q)", v)
	}
	return nil
}

// UUIDs fails when one of vs is not a UUID (an empty list is valid).
func UUIDs(field string, vs []string) error {
	for i, v := range vs {
		if !IsUUID(v) {
			return invalid(field, "element %d: must be a valid UUID (got %q)", i, v)
		}
	}
	return nil
}

// Name fails when v is empty or longer than MaxNameLength characters.
func Name(field, v string) error {
	if err := Required(field, v); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(v); n > MaxNameLength {
		return invalid(field, "length must be between 1 and %d, got %d", MaxNameLength, n)
	}
	return nil
}

// Metadata fails when a key or a value is longer than MaxMetadataLength.
func Metadata(field string, m map[string]string) error {
	for k, v := range m {
		if len(k) > MaxMetadataLength {
			return invalid(field, "metadata key %q is too long", k)
		}
		if len(v) > MaxMetadataLength {
			return invalid(field, "metadata value for key %q is too long", k)
		}
	}
	return nil
}

// Checksum fails unless v is 64 hexadecimal digits (a SHA-256).
func Checksum(field, v string) error {
	if err := Required(field, v); err != nil {
		return err
	}
	if len(v) != 64 {
		return invalid(field, "length must be exactly 64")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return invalid(field, "must be a hexadecimal string")
		}
	}
	return nil
}

// IsURL reports whether s looks like a URL: an optional scheme, a host, no
// white space.
func IsURL(s string) bool {
	if s == "" || len(s) > 2083 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && u.Scheme != ""
}

// URL fails when v is empty or not a URL.
func URL(field, v string) error {
	if err := Required(field, v); err != nil {
		return err
	}
	if !IsURL(v) {
		return invalid(field, "must be a valid URL")
	}
	return nil
}

// RequestURL fails when v is set but not an absolute URL with a scheme.
func RequestURL(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.ParseRequestURI(v)
	if err != nil || u.Scheme == "" {
		return invalid(field, "must be a valid request URL")
	}
	return nil
}

// Addressable fails when a is missing, or its checksum or storage address
// is invalid.
func Addressable(field string, a *protos.Addressable) error {
	if a == nil {
		return invalid(field, "cannot be blank")
	}
	if err := Checksum(field+".checksum", a.GetChecksum()); err != nil {
		return err
	}
	return URL(field+".storage_address", a.GetStorageAddress())
}

// Present fails when a message field is missing.
func Present(field string, isSet bool) error {
	if !isSet {
		return invalid(field, "cannot be blank")
	}
	return nil
}
