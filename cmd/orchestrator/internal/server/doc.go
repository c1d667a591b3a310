// Package server is the gRPC front of the orchestrator binary, shared by its
// solo and fabric modes: listeners and TLS, the caller identity (mspid and
// channel headers, checked against client certificates and the channel
// membership of the configuration), request limits, structured logs with a
// request id, Prometheus metrics, health and reflection services, and a
// graceful shutdown. It knows nothing of the API's services: the caller
// registers them (the generated facade) with Options.Register.
package server
