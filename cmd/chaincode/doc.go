// Command chaincode is the orchestrator's Fabric chaincode: every
// orchestrator contract in one binary. A caller that sends its request in
// compact form (the Fabric facade does) gets its answer and the chaincode
// event in that form (contracts/compact), so that the blocks store less.
//
// It runs in one of two ways, chosen by its environment:
//
//   - as a chaincode-as-a-service (the peer's "ccaas" external builder dials
//     it) when CHAINCODE_SERVER_ADDRESS (host:port to listen on) and
//     CHAINCODE_ID (the installed package id, "label:sha256") are both set.
//     TLS is on unless CHAINCODE_TLS_DISABLED=true; CHAINCODE_TLS_KEY and
//     CHAINCODE_TLS_CERT name the PEM key and certificate files, and
//     CHAINCODE_CLIENT_CA_CERT, when set, names the CA file that peers'
//     client certificates must chain to (mutual TLS).
//   - as a classic chaincode launched by a peer otherwise: it dials the peer
//     with the CORE_* variables the peer gives it.
package main
