package facade

import "context"

// Caller is who calls the orchestrator, and on which channel: the MSP id of
// the caller's organization and the channel the request addresses.
type Caller struct {
	MSPID   string
	Channel string
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller that ctx carries, and whether it carries one.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
