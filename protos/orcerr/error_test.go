package orcerr_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *orcerr.Error
		want string
	}{
		{"new", orcerr.New(orcerr.NotFound, "compute task %s not found", "abc"), "OE0002: compute task abc not found"},
		{"new without args", orcerr.New(orcerr.Internal, "boom"), "OE0007: boom"},
		{"wrap", orcerr.Wrap(orcerr.Internal, io.EOF, "read state %q", "k"), `OE0007: read state "k": EOF`},
		{"wrap without message", orcerr.Wrap(orcerr.ByteArray, io.EOF, ""), "OE0001: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorsIsAndUnwrap(t *testing.T) {
	base := orcerr.Wrap(orcerr.NotFound, io.EOF, "model m")
	wrapped := fmt.Errorf("get model: %w", base)

	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same kind", base, orcerr.NotFound, true},
		{"same kind through fmt wrap", wrapped, orcerr.NotFound, true},
		{"other kind", wrapped, orcerr.Conflict, false},
		{"wrapped cause", wrapped, io.EOF, true},
		{"plain error", io.EOF, orcerr.NotFound, false},
		{"bare kind", fmt.Errorf("x: %w", orcerr.Conflict), orcerr.Conflict, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is = %v, want %v", got, tt.want)
			}
		})
	}
	var e *orcerr.Error
	if !errors.As(wrapped, &e) || e != base {
		t.Errorf("errors.As did not find the *Error")
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want orcerr.Kind
	}{
		{"nil", nil, ""},
		{"typed", orcerr.New(orcerr.PermissionDenied, "no"), orcerr.PermissionDenied},
		{"typed wrapped", fmt.Errorf("ctx: %w", orcerr.New(orcerr.Conflict, "dup")), orcerr.Conflict},
		{"typed wins over text", orcerr.Wrap(orcerr.Internal, errors.New("OE0002: inner"), "outer"), orcerr.Internal},
		{"bare kind", fmt.Errorf("ctx: %w", orcerr.InvalidAsset), orcerr.InvalidAsset},
		{"text only", errors.New("rpc error: code = Aborted desc = failed to endorse: OE0104: task is DONE"), orcerr.IncompatibleTaskStatus},
		{"no code", errors.New("connection refused"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := orcerr.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		text    string
		kind    orcerr.Kind
		msg     string
		ok      bool
		comment string
	}{
		{"OE0002: task abc not found", orcerr.NotFound, "task abc not found", true, "at start"},
		{"endorsement failed: chaincode response 500, OE0006: plan p already exists", orcerr.Conflict, "plan p already exists", true, "embedded"},
		{"a OE0101: first; OE0002: second", orcerr.InvalidAsset, "first; OE0002: second", true, "first occurrence wins"},
		{"OE9999: from the future", "OE9999", "from the future", true, "unknown code still parsed"},
		{"OE0002: ", orcerr.NotFound, "", true, "empty message"},
		{"(OE0003: x)", orcerr.BadRequest, "x)", true, "after punctuation"},
		{"XOE0002: glued", "", "", false, "preceded by a letter"},
		{"7OE0002: glued", "", "", false, "preceded by a digit"},
		{"OE002: short", "", "", false, "three digits"},
		{"OE00a2: x", "", "", false, "non digit"},
		{"OE0002:x", "", "", false, "no space"},
		{"OE0002", "", "", false, "truncated"},
		{"", "", "", false, "empty"},
		{"oe0002: lower", "", "", false, "lower case"},
	}
	for _, tt := range tests {
		t.Run(tt.comment, func(t *testing.T) {
			kind, msg, ok := orcerr.Parse(tt.text)
			if kind != tt.kind || msg != tt.msg || ok != tt.ok {
				t.Errorf("Parse(%q) = (%q, %q, %v), want (%q, %q, %v)", tt.text, kind, msg, ok, tt.kind, tt.msg, tt.ok)
			}
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, k := range orcerr.Kinds() {
		e := orcerr.New(k, "msg %d", 1)
		kind, msg, ok := orcerr.Parse("prefix: " + e.Error())
		if !ok || kind != k || msg != "msg 1" {
			t.Errorf("round trip of %s: got (%q, %q, %v)", k, kind, msg, ok)
		}
	}
}

func TestKindsTable(t *testing.T) {
	want := map[orcerr.Kind]string{
		orcerr.ByteArray: "OE0001", orcerr.NotFound: "OE0002", orcerr.BadRequest: "OE0003",
		orcerr.Conflict: "OE0006", orcerr.Internal: "OE0007", orcerr.Unimplemented: "OE0010",
		orcerr.InvalidAsset: "OE0101", orcerr.PermissionDenied: "OE0102",
		orcerr.IncompatibleTaskStatus: "OE0104", orcerr.CannotDisableModel: "OE0105",
		orcerr.MissingTaskOutput: "OE0106", orcerr.IncompatibleKind: "OE0107",
		orcerr.CannotDisableOutput: "OE0108", orcerr.TerminatedComputePlan: "OE0109",
		orcerr.TerminatedComputeTask: "OE0110",
	}
	kinds := orcerr.Kinds()
	if len(kinds) != len(want) {
		t.Fatalf("Kinds() has %d kinds, want %d", len(kinds), len(want))
	}
	for i, k := range kinds {
		if string(k) != want[k] {
			t.Errorf("kind %q: code mismatch, want %q", k, want[k])
		}
		if i > 0 && kinds[i-1] >= k {
			t.Errorf("Kinds() not in code order at %q", k)
		}
		if k.Describe() == "" || !k.Known() {
			t.Errorf("kind %q has no description", k)
		}
		if k.Error() != string(k) {
			t.Errorf("Error() of %q = %q", k, k.Error())
		}
	}
	if orcerr.Kind("OE0004").Known() || orcerr.Kind("OE0004").Describe() != "" {
		t.Errorf("retired code OE0004 reported as known")
	}
	kinds[0] = "changed"
	if orcerr.Kinds()[0] != orcerr.ByteArray {
		t.Errorf("Kinds() returned shared storage")
	}
}
