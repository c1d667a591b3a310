package orcerr

// Kind is the stable code of an orchestration error, e.g. "OE0002". The codes
// are those of the Substra orchestrator 1.0.0, so callers that branch on them
// keep working.
//
// Kind implements error so that a kind can be the target of errors.Is:
//
//	if errors.Is(err, orcerr.NotFound) { ... }
//
// matches any *Error of that kind in err's chain. Return an *Error, not a
// bare Kind, from code: it carries the message.
type Kind string

// The error kinds. Codes 0-99 are generic, 100-199 concern assets. The gaps
// (OE0004, OE0005, OE0008, OE0009, OE0103) are codes the reference retired; do
// not reuse them.
const (
	// ByteArray: stored or received bytes could not be decoded.
	ByteArray Kind = "OE0001"
	// NotFound: the requested asset does not exist.
	NotFound Kind = "OE0002"
	// BadRequest: the request cannot be served as asked.
	BadRequest Kind = "OE0003"
	// Conflict: an asset with that key already exists.
	Conflict Kind = "OE0006"
	// Internal: a bug or broken invariant, not the caller's fault.
	Internal Kind = "OE0007"
	// Unimplemented: the operation is not implemented.
	Unimplemented Kind = "OE0010"
	// InvalidAsset: the submitted asset fails validation.
	InvalidAsset Kind = "OE0101"
	// PermissionDenied: the caller may not act on that asset.
	PermissionDenied Kind = "OE0102"
	// IncompatibleTaskStatus: the task's status forbids the action.
	IncompatibleTaskStatus Kind = "OE0104"
	// CannotDisableModel: the model is not eligible for disabling.
	CannotDisableModel Kind = "OE0105"
	// MissingTaskOutput: the task has no output with that identifier.
	MissingTaskOutput Kind = "OE0106"
	// IncompatibleKind: the asset's kind differs from what the task output declares.
	IncompatibleKind Kind = "OE0107"
	// CannotDisableOutput: the task output is not eligible for disabling.
	CannotDisableOutput Kind = "OE0108"
	// TerminatedComputePlan: the compute plan is already terminated.
	TerminatedComputePlan Kind = "OE0109"
	// TerminatedComputeTask: the compute task is already terminated.
	TerminatedComputeTask Kind = "OE0110"
)

// kinds is the table behind Kinds and Describe, in code order.
var kinds = []struct {
	kind Kind
	desc string
}{
	{ByteArray, "invalid byte array"},
	{NotFound, "not found"},
	{BadRequest, "bad request"},
	{Conflict, "conflict: asset already exists"},
	{Internal, "internal error"},
	{Unimplemented, "unimplemented"},
	{InvalidAsset, "invalid asset"},
	{PermissionDenied, "permission denied"},
	{IncompatibleTaskStatus, "incompatible task status"},
	{CannotDisableModel, "cannot disable model"},
	{MissingTaskOutput, "missing task output"},
	{IncompatibleKind, "incompatible asset kind"},
	{CannotDisableOutput, "cannot disable output"},
	{TerminatedComputePlan, "compute plan already terminated"},
	{TerminatedComputeTask, "compute task already terminated"},
}

// Kinds returns every known kind, in code order. The slice is a fresh copy.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.kind
	}
	return out
}

// Describe returns a short human description of k, e.g. "not found", or ""
// when k is not a known kind.
func (k Kind) Describe() string {
	for _, e := range kinds {
		if e.kind == k {
			return e.desc
		}
	}
	return ""
}

// Known reports whether k is one of the kinds declared in this package.
func (k Kind) Known() bool { return k.Describe() != "" }

// Error returns the code itself, so that a Kind can be an errors.Is target.
func (k Kind) Error() string { return string(k) }
