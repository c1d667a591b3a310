#!/usr/bin/env bash
# Brings up, from nothing, a local Fabric network running natively on
# loopback (no Docker), deploys the orchestrator chaincode on it, and starts
# one orchestrator facade per organization. Its organizations, channels,
# facade addresses and endorsement policy come from the network description
# that FABRIC_NETWORK names (networks/default.env by default):
#
#   orderer0   OrdererMSP  etcdraft, 127.0.0.1:7050 (admin API :7053)
#   peer0 of organization N (ORGS, 2 or 3): 127.0.0.1:7051, 9051, 11051, LevelDB
#   chaincode  orchestrator, served as a service on 127.0.0.1:9998 (ccaas, mutual TLS),
#              committed on every channel (CHANNELS) by its members
#   facades    one per organization (FACADES), serving its channels
#
# Default: Org1MSP and Org2MSP on mychannel, facades on 127.0.0.1:9001 and
# :9002. Fabric's binaries (peer, orderer, configtxgen, osnadmin, cryptogen
# and the ccaas builder) come from $FABRIC_BIN or PATH. Everything the
# network creates lives in $FABRIC_STATE (default /tmp/fedchain-fabric);
# network-down.sh stops it and removes that folder. Exit status 3 means
# binaries are missing.
set -euo pipefail
# Not the description of a network started earlier: the one asked for.
export FABRIC_NETWORK=${FABRIC_NETWORK:-$(cd "$(dirname "$0")/.." && pwd)/networks/default.env}
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
addrs=(127.0.0.1:$ORDERER_PORT 127.0.0.1:$ORDERER_ADMIN_PORT 127.0.0.1:$ORDERER_OPS_PORT 127.0.0.1:$CC_SERVER_PORT)
for n in $(orgs); do
	addrs+=("127.0.0.1:${PEER_PORTS[n - 1]}" "127.0.0.1:${PEER_CC_PORTS[n - 1]}" "127.0.0.1:${PEER_OPS_PORTS[n - 1]}")
	[ "${FABRIC_FACADES:-1}" = 0 ] || addrs+=("$(facade_addr "$n")")
done
for addr in "${addrs[@]}"; do
	if port_open "$addr"; then
		die "$addr is already in use"
	fi
done

# Anything failing from here on leaves a half-started network: stop it.
trap 'status=$?; if [ $status -ne 0 ]; then log "start failed; logs in $STATE/logs"; "$(dirname "$0")/network-down.sh" --keep-logs >/dev/null 2>&1 || true; fi' EXIT

rm -rf "$STATE"
mkdir -p "$STATE"/{bin,nodes,logs,pids}
cp "$NETWORK_FILE" "$STATE/network.env"
log "state folder: $STATE"

if [ "${FABRIC_FACADES:-1}" != 0 ]; then
	log "building the orchestrator and chaincode binaries"
	(cd "$REPO_DIR" && go build -o "$STATE/bin/" ./cmd/orchestrator ./cmd/chaincode)
else
	log "building the chaincode binary"
	(cd "$REPO_DIR" && go build -o "$STATE/bin/" ./cmd/chaincode)
fi

log "network: $NETWORK_FILE (organizations ${ORG_MSPIDS[*]}; channels ${CHANNELS})"

# The organization-specific parts of the cryptogen and configtxgen
# configurations, from the network description.
CRYPTO_PEER_ORGS="" PEER_ORGANIZATIONS="" CHANNEL_PROFILES=""
for n in $(orgs); do
	msp=$(org_msp "$n")
	CRYPTO_PEER_ORGS+="  - Name: $(org_name "$n")
    Domain: $(org_domain "$n")
    EnableNodeOUs: true
    Template:
      Count: 1
      SANS:
        - localhost
        - 127.0.0.1
    Users:
      Count: 1
"
	PEER_ORGANIZATIONS+="  - &Org$n
    Name: $msp
    ID: $msp
    MSPDir: crypto/peerOrganizations/$(org_domain "$n")/msp
    AnchorPeers:
      - Host: 127.0.0.1
        Port: $(peer_port "$n")
    Policies:
      Readers:
        Type: Signature
        Rule: \"OR('$msp.admin', '$msp.peer', '$msp.client')\"
      Writers:
        Type: Signature
        Rule: \"OR('$msp.admin', '$msp.client')\"
      Admins:
        Type: Signature
        Rule: \"OR('$msp.admin')\"
      Endorsement:
        Type: Signature
        Rule: \"OR('$msp.peer')\"
"
done
for ch in "${CHANNEL_NAMES[@]}"; do
	CHANNEL_PROFILES+="  $ch:
    <<: *ChannelDefaults
    Orderer:
      <<: *OrdererDefaults
      Organizations:
        - *OrdererOrg
      Capabilities: *OrdererCapabilities
    Application:
      <<: *ApplicationDefaults
      Organizations:
$(for n in ${CHANNEL_MEMBERS[$ch]}; do echo "        - *Org$n"; done)
      Capabilities: *ApplicationCapabilities
"
done
export ORDERER_PORT ORDERER_ADMIN_PORT ORDERER_OPS_PORT BATCH_TIMEOUT BATCH_MAX_COUNT BATCH_PREFERRED_MAX_BYTES BATCH_ABSOLUTE_MAX_BYTES ENDORSEMENT_RULE CCAAS_BUILDER BINARY_BUILDER ORDERER_CRYPTO \
	PROFILE_ENABLED ORDERER_PROFILE_PORT CRYPTO_PEER_ORGS PEER_ORGANIZATIONS CHANNEL_PROFILES

log "generating crypto material (cryptogen)"
render "$NETWORK_DIR/config/crypto-config.yaml" "$STATE/crypto-config.yaml"
"$CRYPTOGEN_BIN" generate --config="$STATE/crypto-config.yaml" --output="$CRYPTO" >/dev/null

render "$NETWORK_DIR/config/configtx.yaml" "$STATE/configtx.yaml"
for ch in "${CHANNEL_NAMES[@]}"; do
	log "creating the genesis block of $ch (configtxgen)"
	FABRIC_CFG_PATH=$STATE "$CONFIGTXGEN_BIN" -profile "$ch" -channelID "$ch" \
		-outputBlock "$STATE/$ch.block" >>"$STATE/logs/configtxgen.log" 2>&1 ||
		die "configtxgen failed: $(tail -3 "$STATE/logs/configtxgen.log")"
done

log "starting the orderer"
mkdir -p "$STATE/nodes/orderer0"
ORDERER_STATE=$STATE/nodes/orderer0/data render "$NETWORK_DIR/config/orderer.yaml" "$STATE/nodes/orderer0/orderer.yaml"
FABRIC_CFG_PATH=$STATE/nodes/orderer0 start orderer0 "$ORDERER_BIN"

for n in $(orgs); do
	log "starting $(peer_host "$n")"
	dir=$STATE/nodes/peer$n
	mkdir -p "$dir"
	PEER_NAME=$(peer_host "$n") PEER_MSPID=$(org_msp "$n") PEER_PORT=$(peer_port "$n") PEER_CC_PORT=${PEER_CC_PORTS[n - 1]} \
		PEER_OPS_PORT=${PEER_OPS_PORTS[n - 1]} PEER_PROFILE_PORT=${PEER_PROFILE_PORTS[n - 1]} PEER_STATE=$dir/data PEER_CRYPTO=$(peer_crypto "$n") \
		render "$NETWORK_DIR/config/core.yaml" "$dir/core.yaml"
	FABRIC_CFG_PATH=$dir start "peer$n" "$PEER_BIN" node start
done

wait_for "the orderer admin API" 60 port_open "127.0.0.1:$ORDERER_ADMIN_PORT"
check_alive orderer0 || die "the orderer died: $(tail -5 "$STATE/logs/orderer0.log")"

orderer_admin=$ORDERER_ORG/users/Admin@orderer.fedchain.test/tls
for ch in "${CHANNEL_NAMES[@]}"; do
	log "joining the orderer to $ch (osnadmin)"
	"$OSNADMIN_BIN" channel join --channelID "$ch" --config-block "$STATE/$ch.block" \
		-o "127.0.0.1:$ORDERER_ADMIN_PORT" --ca-file "$ORDERER_TLS_CA" \
		--client-cert "$orderer_admin/client.crt" --client-key "$orderer_admin/client.key" >>"$STATE/logs/osnadmin.log" 2>&1 ||
		die "osnadmin channel join failed: $(cat "$STATE/logs/osnadmin.log")"
done

log "waiting for the Raft leader of every channel"
wait_for "the Raft leaders" 60 eval '[ "$(grep -c "Raft leader changed: 0 -> " "$STATE/logs/orderer0.log")" -ge ${#CHANNEL_NAMES[@]} ]'

for n in $(orgs); do
	wait_for "$(peer_host "$n")" 60 port_open "127.0.0.1:$(peer_port "$n")"
	check_alive "peer$n" || die "$(peer_host "$n") died: $(tail -5 "$STATE/logs/peer$n.log")"
	for ch in $(org_channels "$n"); do
		log "joining $(peer_host "$n") to $ch"
		wait_for "$(peer_host "$n") to join $ch" 30 as_org "$n" "$PEER_BIN" channel join -b "$STATE/$ch.block"
	done
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

# The lifecycle steps go through chaincode-admin.sh, as an administrator
# of an existing network runs them (-L N: as organization N's admin here).
admin() { "$NETWORK_DIR/scripts/chaincode-admin.sh" "$@" >>"$STATE/logs/lifecycle.log" 2>&1; }
for n in $(orgs); do
	log "installing the chaincode on $(peer_host "$n")"
	admin install "$ccdir/orchestrator.tar.gz" -L "$n" ||
		die "install on $(peer_host "$n") failed: $(tail -3 "$STATE/logs/lifecycle.log")"
done

if [ "$CC_MODE" != peer ]; then
	log "starting the chaincode server on 127.0.0.1:$CC_SERVER_PORT"
	CHAINCODE_SERVER_ADDRESS=127.0.0.1:$CC_SERVER_PORT CHAINCODE_ID=$PACKAGE_ID \
		CHAINCODE_TLS_KEY=$ccdir/server.key CHAINCODE_TLS_CERT=$ccdir/server.crt CHAINCODE_CLIENT_CA_CERT=$ccdir/client-ca.crt \
		start chaincode "$STATE/bin/chaincode"
	wait_for "the chaincode server" 30 port_open "127.0.0.1:$CC_SERVER_PORT"
fi

for ch in "${CHANNEL_NAMES[@]}"; do
	for n in ${CHANNEL_MEMBERS[$ch]}; do
		log "approving the chaincode for $(org_msp "$n") on $ch"
		admin approve -L "$n" -C "$ch" -v "$CC_VERSION" -s 1 -i "$PACKAGE_ID" ||
			die "approve for $(org_msp "$n") on $ch failed: $(tail -3 "$STATE/logs/lifecycle.log")"
	done
	first=$(cut -d' ' -f1 <<<"${CHANNEL_MEMBERS[$ch]}")
	log "committing the chaincode definition on $ch"
	admin commit -L "$first" -C "$ch" -v "$CC_VERSION" -s 1 ||
		die "commit on $ch failed: $(tail -3 "$STATE/logs/lifecycle.log")"
	for n in ${CHANNEL_MEMBERS[$ch]}; do
		wait_for "the chaincode definition on $(peer_host "$n") ($ch)" 30 admin committed -L "$n" -C "$ch"
	done
done

# A peer's gateway collects the other organization's endorsement only once
# gossip has shown it the other peer.
log "waiting for the peers to see each other (gossip)"
for ch in "${CHANNEL_NAMES[@]}"; do
	for n in ${CHANNEL_MEMBERS[$ch]}; do
		for m in ${CHANNEL_MEMBERS[$ch]}; do
			[ "$n" = "$m" ] && continue
			wait_for "$(peer_host "$n") to see $(peer_host "$m")" 90 \
				grep -q "peers went online.*127.0.0.1:$(peer_port "$m")" "$STATE/logs/peer$n.log"
		done
	done
done

# gateway_flags N: the `orchestrator fabric` flags of organization N's
# facade: its peer, its identity, its channels.
gateway_flags() {
	local n=$1 user ch
	user=$(user_msp "$n" User1)
	echo --peer-endpoint "127.0.0.1:$(peer_port "$n")" --peer-tls-ca "$(peer_tls_ca "$n")" \
		--mspid "$(org_msp "$n")" --cert "$user/signcerts/User1@$(org_domain "$n")-cert.pem" --key "$user/keystore" \
		--chaincode "$CC_NAME" $(for ch in $(org_channels "$n"); do echo --channel "$ch"; done)
}

# The network's settings, for the tests (some talk to the peers directly).
{
	echo "FABRIC_NETWORK_FILE=$NETWORK_FILE"
	echo "FABRIC_CHANNEL=$CHANNEL"
	echo "FABRIC_CHANNELS=\"${CHANNEL_NAMES[*]}\""
	for ch in "${CHANNEL_NAMES[@]}"; do
		echo "FABRIC_CHANNEL_MEMBERS_$(tr 'a-z.-' 'A-Z__' <<<"$ch")=\"$(for n in ${CHANNEL_MEMBERS[$ch]}; do org_msp "$n"; done | xargs)\""
	done
	echo "FABRIC_ORGS=\"${ORG_MSPIDS[*]}\""
	echo "FABRIC_CHAINCODE=$CC_NAME"
	echo "FABRIC_PACKAGE_ID=$PACKAGE_ID"
	echo "FABRIC_ENDORSEMENT_POLICY=\"$ENDORSEMENT_RULE\""
	echo "FABRIC_ORDERER_BATCH=\"BatchTimeout $BATCH_TIMEOUT, MaxMessageCount $BATCH_MAX_COUNT, PreferredMaxBytes $BATCH_PREFERRED_MAX_BYTES, AbsoluteMaxBytes $BATCH_ABSOLUTE_MAX_BYTES\""
	echo "FABRIC_STATE=$STATE"
	for n in $(orgs); do
		echo "FABRIC_ORG${n}_MSPID=$(org_msp "$n")"
		echo "FABRIC_ORG${n}_FACADE=$(facade_addr "$n")"
		echo "FABRIC_ORG${n}_CHANNELS=\"$(org_channels "$n")\""
		echo "FABRIC_ORG${n}_GATEWAY_FLAGS=\"$(gateway_flags "$n")\""
	done
} >"$STATE/env"

# FABRIC_FACADES=0 stops here: a network without orchestrator facades.
if [ "${FABRIC_FACADES:-1}" != 0 ]; then
	for n in $(orgs); do
		log "starting the $(org_msp "$n") facade on $(facade_addr "$n") (channels $(org_channels "$n"))"
		# shellcheck disable=SC2046
		start "facade$n" "$STATE/bin/orchestrator" fabric --listen "$(facade_addr "$n")" $(gateway_flags "$n") \
			--state-dir "$STATE/nodes/facade$n"
	done
	for n in $(orgs); do
		addr=$(facade_addr "$n")
		for ((i = 0; i < 60; i++)); do
			port_open "$addr" && break
			check_alive "facade$n" || die "the $(org_msp "$n") facade died: $(tail -5 "$STATE/logs/facade$n.log")"
			sleep 1
		done
		port_open "$addr" || die "the $(org_msp "$n") facade does not listen on $addr"
	done
fi

trap - EXIT
log "network up"
if [ "${FABRIC_FACADES:-1}" != 0 ]; then
	for n in $(orgs); do echo "$(org_msp "$n") facade: $(facade_addr "$n") (channels $(org_channels "$n"))"; done
fi
echo "channels: ${CHANNELS}; chaincode: $CC_NAME ($PACKAGE_ID)"
echo "state and logs: $STATE, settings: $STATE/env (stop with: make fabric-down)"
