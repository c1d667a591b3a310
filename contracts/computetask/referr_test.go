package computetask

import (
	"strings"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

// refErr reports whether err is of kind and its message contains words.
// The words are those of the reference orchestrator (Substra orchestrator
// 1.0.0) for the same condition: its clients look for them in messages, so
// that wording is part of the API; only the words are taken from it. The
// full table, run through the API in solo and on Fabric, is
// cmd/orchestrator/e2e/reference_errors_test.go.
func refErr(err error, kind orcerr.Kind, words string) bool {
	return orcerr.KindOf(err) == kind && strings.Contains(err.Error(), words)
}
