#!/usr/bin/env bash
# Brings up, from nothing, a local Fabric network running natively on
# loopback (no Docker), deploys the orchestrator chaincode on it, and starts
# one orchestrator facade per organization:
#
#   orderer0   OrdererMSP  etcdraft, 127.0.0.1:7050 (admin API :7053)
#   peer0.org1 Org1MSP     127.0.0.1:7051, LevelDB
#   peer0.org2 Org2MSP     127.0.0.1:9051, LevelDB
#   chaincode  orchestrator, served as a service on 127.0.0.1:9998 (ccaas, mutual TLS)
#   facades    Org1MSP on 127.0.0.1:9001, Org2MSP on 127.0.0.1:9002
#
# Fabric's binaries (peer, orderer, configtxgen, osnadmin, cryptogen and the
# ccaas builder) come from $FABRIC_BIN or PATH. Everything the network
# creates lives in $FABRIC_STATE (default /tmp/fedchain-fabric); network-down.sh
# stops it and removes that folder. Exit status 3 means binaries are missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

find_fabric_binaries
if [ ${#MISSING[@]} -gt 0 ]; then
	log "missing Fabric binaries: ${MISSING[*]}"
	log "build or download Fabric 3.1 and set FABRIC_BIN to the folder holding them (or put them on PATH)"
	exit 3
fi

if [ -d "$STATE/pids" ] && ls "$STATE"/pids/*.pid >/dev/null 2>&1; then
	die "a network is already running from $STATE: run network-down.sh first"
fi
for addr in 127.0.0.1:$ORDERER_PORT 127.0.0.1:$ORDERER_ADMIN_PORT 127.0.0.1:$ORDERER_OPS_PORT \
	127.0.0.1:$PEER1_PORT 127.0.0.1:$PEER1_CC_PORT 127.0.0.1:$PEER1_OPS_PORT \
	127.0.0.1:$PEER2_PORT 127.0.0.1:$PEER2_CC_PORT 127.0.0.1:$PEER2_OPS_PORT \
	127.0.0.1:$CC_SERVER_PORT $FACADE1_ADDR $FACADE2_ADDR; do
	if port_open "$addr"; then
		die "$addr is already in use"
	fi
done

# Anything failing from here on leaves a half-started network: stop it.
trap 'status=$?; if [ $status -ne 0 ]; then log "start failed; logs in $STATE/logs"; "$(dirname "$0")/network-down.sh" --keep-logs >/dev/null 2>&1 || true; fi' EXIT

rm -rf "$STATE"
mkdir -p "$STATE"/{bin,nodes,logs,pids}
log "state folder: $STATE"

if [ "${FABRIC_FACADES:-1}" != 0 ]; then
	log "building the orchestrator and chaincode binaries"
	(cd "$REPO_DIR" && go build -o "$STATE/bin/" ./cmd/orchestrator ./cmd/chaincode)
else
	log "building the chaincode binary"
	(cd "$REPO_DIR" && go build -o "$STATE/bin/" ./cmd/chaincode)
fi

log "generating crypto material (cryptogen)"
"$CRYPTOGEN_BIN" generate --config="$NETWORK_DIR/config/crypto-config.yaml" --output="$CRYPTO" >/dev/null

log "creating the genesis block of $CHANNEL (configtxgen)"
export ORDERER_PORT ORDERER_ADMIN_PORT ORDERER_OPS_PORT PEER1_PORT PEER2_PORT BATCH_TIMEOUT BATCH_MAX_COUNT BATCH_PREFERRED_MAX_BYTES BATCH_ABSOLUTE_MAX_BYTES ENDORSEMENT_RULE CCAAS_BUILDER BINARY_BUILDER ORDERER_CRYPTO \
	PROFILE_ENABLED ORDERER_PROFILE_PORT
render "$NETWORK_DIR/config/configtx.yaml" "$STATE/configtx.yaml"
FABRIC_CFG_PATH=$STATE "$CONFIGTXGEN_BIN" -profile OrchestratorChannel -channelID "$CHANNEL" \
	-outputBlock "$STATE/$CHANNEL.block" >"$STATE/logs/configtxgen.log" 2>&1 ||
	die "configtxgen failed: $(tail -3 "$STATE/logs/configtxgen.log")"

log "starting the orderer"
mkdir -p "$STATE/nodes/orderer0"
ORDERER_STATE=$STATE/nodes/orderer0/data render "$NETWORK_DIR/config/orderer.yaml" "$STATE/nodes/orderer0/orderer.yaml"
FABRIC_CFG_PATH=$STATE/nodes/orderer0 start orderer0 "$ORDERER_BIN"

for n in 1 2; do
	log "starting peer0.org$n"
	dir=$STATE/nodes/peer$n
	mkdir -p "$dir"
	if [ "$n" = 1 ]; then cc=$PEER1_CC_PORT ops=$PEER1_OPS_PORT prof=$PEER1_PROFILE_PORT; else cc=$PEER2_CC_PORT ops=$PEER2_OPS_PORT prof=$PEER2_PROFILE_PORT; fi
	PEER_NAME=peer0.org$n.fedchain.test PEER_MSPID=Org${n}MSP PEER_PORT=$(peer_port $n) PEER_CC_PORT=$cc \
		PEER_OPS_PORT=$ops PEER_PROFILE_PORT=$prof PEER_STATE=$dir/data PEER_CRYPTO=$(peer_crypto $n) \
		render "$NETWORK_DIR/config/core.yaml" "$dir/core.yaml"
	FABRIC_CFG_PATH=$dir start "peer$n" "$PEER_BIN" node start
done

wait_for "the orderer admin API" 60 port_open "127.0.0.1:$ORDERER_ADMIN_PORT"
check_alive orderer0 || die "the orderer died: $(tail -5 "$STATE/logs/orderer0.log")"

log "joining the orderer to $CHANNEL (osnadmin)"
orderer_admin=$ORDERER_ORG/users/Admin@orderer.fedchain.test/tls
"$OSNADMIN_BIN" channel join --channelID "$CHANNEL" --config-block "$STATE/$CHANNEL.block" \
	-o "127.0.0.1:$ORDERER_ADMIN_PORT" --ca-file "$ORDERER_TLS_CA" \
	--client-cert "$orderer_admin/client.crt" --client-key "$orderer_admin/client.key" >"$STATE/logs/osnadmin.log" 2>&1 ||
	die "osnadmin channel join failed: $(cat "$STATE/logs/osnadmin.log")"

log "waiting for the Raft leader"
wait_for "the Raft leader of $CHANNEL" 60 grep -q "Raft leader changed: 0 -> " "$STATE/logs/orderer0.log"

for n in 1 2; do
	wait_for "peer0.org$n" 60 port_open "127.0.0.1:$(peer_port $n)"
	check_alive "peer$n" || die "peer0.org$n died: $(tail -5 "$STATE/logs/peer$n.log")"
	log "joining peer0.org$n to $CHANNEL"
	wait_for "peer0.org$n to join $CHANNEL" 30 as_org $n "$PEER_BIN" channel join -b "$STATE/$CHANNEL.block"
done

ccdir=$STATE/chaincode
mkdir -p "$ccdir"
if [ "$CC_MODE" = peer ]; then
	log "packaging the chaincode binary (launched by the peers)"
	"$NETWORK_DIR/scripts/package-chaincode.sh" -o "$ccdir/orchestrator.tar.gz" -l "$CC_LABEL" \
		-b "$STATE/bin/chaincode" >"$ccdir/package.txt"
else
	log "packaging the chaincode (ccaas, mutual TLS)"
	# The chaincode server's key pair (self-signed), and a small CA that signs
	# the client certificate the peers present to it.
	ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -days 30 -keyout "$ccdir/server.key" -out "$ccdir/server.crt" \
		-subj "/CN=orchestrator-chaincode" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
	openssl req -x509 "${ec[@]}" -days 30 -keyout "$ccdir/client-ca.key" -out "$ccdir/client-ca.crt" \
		-subj "/CN=orchestrator-chaincode-clients" >/dev/null 2>&1
	openssl req "${ec[@]}" -keyout "$ccdir/client.key" -out "$ccdir/client.csr" -subj "/CN=peer" >/dev/null 2>&1
	openssl x509 -req -in "$ccdir/client.csr" -CA "$ccdir/client-ca.crt" -CAkey "$ccdir/client-ca.key" \
		-CAcreateserial -days 30 -out "$ccdir/client.crt" >/dev/null 2>&1
	"$NETWORK_DIR/scripts/package-chaincode.sh" -o "$ccdir/orchestrator.tar.gz" -l "$CC_LABEL" \
		-a "127.0.0.1:$CC_SERVER_PORT" -c "$ccdir/server.crt" -k "$ccdir/client.key" -K "$ccdir/client.crt" >"$ccdir/package.txt"
fi
PACKAGE_ID=$(sed -n 's/^package id: //p' "$ccdir/package.txt")
log "package id $PACKAGE_ID"

for n in 1 2; do
	log "installing the chaincode on peer0.org$n"
	as_org $n "$PEER_BIN" lifecycle chaincode install "$ccdir/orchestrator.tar.gz" >>"$STATE/logs/lifecycle.log" 2>&1 ||
		die "install on peer0.org$n failed: $(tail -3 "$STATE/logs/lifecycle.log")"
done

if [ "$CC_MODE" != peer ]; then
	log "starting the chaincode server on 127.0.0.1:$CC_SERVER_PORT"
	CHAINCODE_SERVER_ADDRESS=127.0.0.1:$CC_SERVER_PORT CHAINCODE_ID=$PACKAGE_ID \
		CHAINCODE_TLS_KEY=$ccdir/server.key CHAINCODE_TLS_CERT=$ccdir/server.crt CHAINCODE_CLIENT_CA_CERT=$ccdir/client-ca.crt \
		start chaincode "$STATE/bin/chaincode"
	wait_for "the chaincode server" 30 port_open "127.0.0.1:$CC_SERVER_PORT"
fi

orderer_flags=(-o "127.0.0.1:$ORDERER_PORT" --tls --cafile "$ORDERER_TLS_CA")
cc_flags=(--channelID "$CHANNEL" --name "$CC_NAME" --version "$CC_VERSION" --sequence 1)
for n in 1 2; do
	log "approving the chaincode for Org${n}MSP"
	as_org $n "$PEER_BIN" lifecycle chaincode approveformyorg "${orderer_flags[@]}" "${cc_flags[@]}" \
		--package-id "$PACKAGE_ID" >>"$STATE/logs/lifecycle.log" 2>&1 ||
		die "approve for Org${n}MSP failed: $(tail -3 "$STATE/logs/lifecycle.log")"
done

log "committing the chaincode definition"
as_org 1 "$PEER_BIN" lifecycle chaincode commit "${orderer_flags[@]}" "${cc_flags[@]}" \
	--peerAddresses "127.0.0.1:$PEER1_PORT" --tlsRootCertFiles "$(peer_tls_ca 1)" \
	--peerAddresses "127.0.0.1:$PEER2_PORT" --tlsRootCertFiles "$(peer_tls_ca 2)" >>"$STATE/logs/lifecycle.log" 2>&1 ||
	die "commit failed: $(tail -3 "$STATE/logs/lifecycle.log")"
for n in 1 2; do
	wait_for "the chaincode definition on peer0.org$n" 30 \
		as_org $n "$PEER_BIN" lifecycle chaincode querycommitted --channelID "$CHANNEL" --name "$CC_NAME"
done

# A peer's gateway collects the other organization's endorsement only once
# gossip has shown it the other peer.
log "waiting for the peers to see each other (gossip)"
wait_for "peer0.org1 to see peer0.org2" 90 grep -q "peers went online.*127.0.0.1:$PEER2_PORT" "$STATE/logs/peer1.log"
wait_for "peer0.org2 to see peer0.org1" 90 grep -q "peers went online.*127.0.0.1:$PEER1_PORT" "$STATE/logs/peer2.log"

# gateway_flags N: the `orchestrator fabric` flags of organization N's facade.
gateway_flags() {
	local n=$1 user
	user=$(user_msp "$n" User1)
	echo --peer-endpoint "127.0.0.1:$(peer_port "$n")" --peer-tls-ca "$(peer_tls_ca "$n")" \
		--mspid "Org${n}MSP" --cert "$user/signcerts/User1@org$n.fedchain.test-cert.pem" --key "$user/keystore" \
		--channel "$CHANNEL" --chaincode "$CC_NAME"
}
facade_addr() { if [ "$1" = 1 ]; then echo "$FACADE1_ADDR"; else echo "$FACADE2_ADDR"; fi; }

# The facades' settings, also for tests that talk to the peers directly.
{
	echo "FABRIC_CHANNEL=$CHANNEL"
	echo "FABRIC_CHAINCODE=$CC_NAME"
	echo "FABRIC_PACKAGE_ID=$PACKAGE_ID"
	echo "FABRIC_ENDORSEMENT_POLICY=\"$ENDORSEMENT_RULE\""
	echo "FABRIC_ORDERER_BATCH=\"BatchTimeout $BATCH_TIMEOUT, MaxMessageCount $BATCH_MAX_COUNT, PreferredMaxBytes $BATCH_PREFERRED_MAX_BYTES, AbsoluteMaxBytes $BATCH_ABSOLUTE_MAX_BYTES\""
	for n in 1 2; do
		echo "FABRIC_ORG${n}_FACADE=$(facade_addr $n)"
		echo "FABRIC_ORG${n}_GATEWAY_FLAGS=\"$(gateway_flags $n)\""
	done
} >"$STATE/env"

# FABRIC_FACADES=0 stops here: a network without orchestrator facades.
if [ "${FABRIC_FACADES:-1}" != 0 ]; then
	for n in 1 2; do
		log "starting the Org${n}MSP facade on $(facade_addr $n)"
		# shellcheck disable=SC2046
		start "facade$n" "$STATE/bin/orchestrator" fabric --listen "$(facade_addr $n)" $(gateway_flags $n)
	done
	for n in 1 2; do
		addr=$(facade_addr $n)
		for ((i = 0; i < 60; i++)); do
			port_open "$addr" && break
			check_alive "facade$n" || die "the Org${n}MSP facade died: $(tail -5 "$STATE/logs/facade$n.log")"
			sleep 1
		done
		port_open "$addr" || die "the Org${n}MSP facade does not listen on $addr"
	done
fi

trap - EXIT
log "network up"
if [ "${FABRIC_FACADES:-1}" != 0 ]; then
	echo "Org1MSP facade: $FACADE1_ADDR"
	echo "Org2MSP facade: $FACADE2_ADDR"
fi
echo "channel: $CHANNEL, chaincode: $CC_NAME ($PACKAGE_ID)"
echo "state and logs: $STATE, settings: $STATE/env (stop with: make fabric-down)"
