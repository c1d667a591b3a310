package orcerr_test

import (
	"errors"
	"fmt"

	"github.com/fedchain/orchestrator/protos/orcerr"
)

func ExampleKindOf() {
	// What a Fabric client sees when the chaincode returned an *orcerr.Error.
	err := errors.New("endorse: chaincode response 500, OE0002: compute task abc not found")
	fmt.Println(orcerr.KindOf(err), orcerr.KindOf(err).Describe())
	// Output: OE0002 not found
}

func ExampleError_Is() {
	err := fmt.Errorf("get task: %w", orcerr.New(orcerr.NotFound, "compute task %s not found", "abc"))
	fmt.Println(errors.Is(err, orcerr.NotFound), errors.Is(err, orcerr.Conflict))
	fmt.Println(err)
	// Output:
	// true false
	// get task: OE0002: compute task abc not found
}
