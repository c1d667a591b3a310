// Package orcerr defines the kinds of orchestration errors, shared by the
// contracts (which return them) and the facade (which turns them into gRPC
// statuses). It imports nothing from gRPC.
//
// An *Error's text starts with its kind's code ("OE0002: ..."); KindOf and
// Parse recover the kind from the text alone, which is all that survives a
// Fabric endorsement error.
//
// # gRPC status codes
//
// The facade owns the mapping to gRPC codes. For compatibility it should
// follow the Substra orchestrator 1.0.0, which maps:
//
//	InvalidAsset            OE0101  InvalidArgument
//	Conflict                OE0006  AlreadyExists
//	PermissionDenied        OE0102  PermissionDenied
//	NotFound                OE0002  NotFound
//	BadRequest              OE0003  FailedPrecondition
//	IncompatibleTaskStatus  OE0104  InvalidArgument
//	Unimplemented           OE0010  Unimplemented
//	CannotDisableModel      OE0105  InvalidArgument
//	MissingTaskOutput       OE0106  InvalidArgument
//	IncompatibleKind        OE0107  InvalidArgument
//	Internal                OE0007  Internal
//	ByteArray               OE0001  Unknown (no explicit case)
//	CannotDisableOutput     OE0108  Unknown (no explicit case)
//	TerminatedComputePlan   OE0109  Unknown (no explicit case)
//	TerminatedComputeTask   OE0110  Unknown (no explicit case)
//	any other error                 Unknown
//
// In every case the status message is the error's full text.
package orcerr
