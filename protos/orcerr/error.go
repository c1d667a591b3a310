package orcerr

import (
	"errors"
	"fmt"
)

// Error is an orchestration error: a kind, a message and optionally the error
// that caused it. Its text always starts with the code, which is how the kind
// survives transports that keep only text (Fabric endorsement errors):
//
//	OE0002: compute task abc not found
//	OE0007: read state: <wrapped error>
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

// New returns an error of the given kind with a fmt-formatted message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind with a fmt-formatted message that
// wraps err (errors.Unwrap returns err).
func Wrap(kind Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Error returns "<code>: <message>[: <wrapped error>]".
func (e *Error) Error() string {
	s := string(e.Kind) + ": " + e.Msg
	if e.Err != nil {
		if e.Msg != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	return s
}

// Unwrap returns the wrapped error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the Kind of e, so that
// errors.Is(err, orcerr.NotFound) holds for a not-found *Error.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// KindOf returns the kind of err: that of the first *Error (or bare Kind) in
// its chain, else the first code found in its text (see Parse), else "".
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	if k, _, ok := Parse(err.Error()); ok {
		return k
	}
	return ""
}

// Parse finds the first "OEdddd: " in text (not preceded by a letter or
// digit) and returns that code and the text after it. Fabric reports a
// chaincode error inside a longer endorsement message, e.g.
//
//	endorsement failed: chaincode response 500, OE0002: task abc not found
//
// from which Parse returns (NotFound, "task abc not found", true). The code
// need not be a known kind. ok is false when text holds no code.
func Parse(text string) (kind Kind, msg string, ok bool) {
	const codeLen = len("OE0000: ")
	for i := 0; i+codeLen <= len(text); i++ {
		if text[i] != 'O' || text[i+1] != 'E' || text[i+6] != ':' || text[i+7] != ' ' {
			continue
		}
		if !isDigit(text[i+2]) || !isDigit(text[i+3]) || !isDigit(text[i+4]) || !isDigit(text[i+5]) {
			continue
		}
		if i > 0 && isAlnum(text[i-1]) {
			continue
		}
		return Kind(text[i : i+6]), text[i+codeLen:], true
	}
	return "", "", false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}
