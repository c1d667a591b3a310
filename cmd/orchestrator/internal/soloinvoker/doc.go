// Package soloinvoker runs the orchestrator API's transactions in process:
// it adapts a solo.Peer (the contracts' chaincode over an embedded or
// CouchDB store) to the facade's Invoker, and serves event subscriptions
// from the solo event log.
package soloinvoker
