// Package parity holds the test that the orchestrator contracts answer the
// same in solo mode and on a real Fabric network: the same request sequence
// goes to an in-process solo peer and, through facade/fabricgw, to the
// network that fabric-network/scripts/network-up.sh started, and every
// response (or error code and message) must match, timestamps and
// transaction-derived ids aside. Beside it: the gateway's event stream on
// the network (resume without gaps or duplicates), the facades in front of
// it (gRPC, events, refusal of another organization's caller), and, with
// FABRIC_BENCH=1, a submit throughput measurement.
//
// The test runs only when FABRIC_ENV names the settings file of a running
// network ($FABRIC_STATE/env); `make test-fabric` sets it.
package parity
