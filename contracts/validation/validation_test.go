package validation_test

import (
	"strings"
	"testing"

	"github.com/fedchain/orchestrator/contracts/validation"
	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

func TestChecks(t *testing.T) {
	good := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"uuid", validation.UUID("key", "3fa85f64-5717-4562-b3fc-2c963f66afa6"), true},
		{"uuid upper", validation.UUID("key", "3FA85F64-5717-4562-B3FC-2C963F66AFA6"), false},
		{"uuid short", validation.UUID("key", "3fa85f64-5717-4562-b3fc-2c963f66afa"), false},
		{"uuid dashes", validation.UUID("key", "3fa85f64x5717-4562-b3fc-2c963f66afa6"), false},
		{"uuid blank", validation.UUID("key", ""), false},
		{"uuids", validation.UUIDs("keys", []string{"3fa85f64-5717-4562-b3fc-2c963f66afa6"}), true},
		{"uuids bad", validation.UUIDs("keys", []string{"3fa85f64-5717-4562-b3fc-2c963f66afa6", "x"}), false},
		{"name", validation.Name("name", strings.Repeat("é", 100)), true},
		{"name long", validation.Name("name", strings.Repeat("é", 101)), false},
		{"name blank", validation.Name("name", ""), false},
		{"metadata", validation.Metadata("metadata", map[string]string{strings.Repeat("k", 100): strings.Repeat("v", 100)}), true},
		{"metadata key", validation.Metadata("metadata", map[string]string{strings.Repeat("k", 101): ""}), false},
		{"metadata value", validation.Metadata("metadata", map[string]string{"k": strings.Repeat("v", 101)}), false},
		{"checksum", validation.Checksum("checksum", strings.ToUpper(good)), true},
		{"checksum short", validation.Checksum("checksum", good[:63]), false},
		{"checksum not hex", validation.Checksum("checksum", "g"+good[1:]), false},
		{"checksum blank", validation.Checksum("checksum", ""), false},
		{"url", validation.URL("u", "https://host.example.org:8000/a/b?c=d"), true},
		{"url no scheme", validation.URL("u", "host.example.org/path"), true},
		{"url space", validation.URL("u", "http://host/a b"), false},
		{"url no host", validation.URL("u", "http:///path"), false},
		{"url blank", validation.URL("u", ""), false},
		{"request url", validation.RequestURL("a", "http://h:1/x"), true},
		{"request url blank", validation.RequestURL("a", ""), true},
		{"request url relative", validation.RequestURL("a", "h/x"), false},
		{"addressable", validation.Addressable("a", &protos.Addressable{Checksum: good, StorageAddress: "http://h/x"}), true},
		{"addressable nil", validation.Addressable("a", nil), false},
		{"addressable bad checksum", validation.Addressable("a", &protos.Addressable{Checksum: "1", StorageAddress: "http://h/x"}), false},
		{"addressable bad address", validation.Addressable("a", &protos.Addressable{Checksum: good}), false},
		{"present", validation.Present("p", true), true},
		{"absent", validation.Present("p", false), false},
		{"required", validation.Required("r", "x"), true},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, tt.err, tt.ok)
			continue
		}
		if tt.err != nil && (orcerr.KindOf(tt.err) != orcerr.InvalidAsset || !strings.HasPrefix(tt.err.Error(), "OE0101: invalid ")) {
			t.Errorf("%s: error %q is not an OE0101 naming the field", tt.name, tt.err)
		}
	}
}

// TestAsset checks the "<kind> is not valid" prefix that the reference
// orchestrator's clients match on (its wording is part of its API, which is
// why the text is the same), and that other errors pass through.
func TestAsset(t *testing.T) {
	other := orcerr.New(orcerr.NotFound, "x")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"invalid", validation.UUID("key", "x"), `OE0101: computetask is not valid: invalid key: must be a valid UUID (got "x")`},
		{"other kind", other, "OE0002: x"},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		got := validation.Asset("computetask", tt.err)
		if tt.want == "" {
			if got != nil {
				t.Errorf("%s: got %v, want nil", tt.name, got)
			}
			continue
		}
		if got == nil || got.Error() != tt.want || orcerr.KindOf(got) != orcerr.KindOf(tt.err) {
			t.Errorf("%s: got %v, want %q", tt.name, got, tt.want)
		}
	}
}

func TestBatchCaps(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"request at the cap", validation.BatchRequest("RegisterTasks", validation.MaxBatchRequestBytes), true},
		{"request above the cap", validation.BatchRequest("RegisterTasks", validation.MaxBatchRequestBytes+1), false},
		{"batch at the cap", validation.BatchLen("tasks", validation.MaxTasksPerCall, validation.MaxTasksPerCall), true},
		{"batch above the cap", validation.BatchLen("tasks", validation.MaxTasksPerCall+1, validation.MaxTasksPerCall), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ok != (tt.err == nil) {
				t.Fatalf("err = %v, want ok %v", tt.err, tt.ok)
			}
			if tt.err != nil && !strings.HasPrefix(tt.err.Error(), "OE0101: ") {
				t.Errorf("err = %q, want an InvalidAsset (OE0101) error", tt.err)
			}
		})
	}
}
