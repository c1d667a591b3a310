# Shared definitions of the fabric-network scripts; sourced, not run.
# shellcheck shell=bash

NETWORK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$NETWORK_DIR/.." && pwd)

# Where a running network keeps everything it creates: crypto material,
# rendered configs, ledgers, logs, pid files. fabric-down removes it.
STATE=${FABRIC_STATE:-${TMPDIR:-/tmp}/fedchain-fabric}

CC_NAME=${FABRIC_CHAINCODE:-orchestrator}
CC_VERSION=1.0
CC_LABEL=${CC_NAME}_${CC_VERSION}
# The orderer's block cutting: a block is cut after BATCH_TIMEOUT, or
# when it holds BATCH_MAX_COUNT transactions or BATCH_PREFERRED_MAX_BYTES.
BATCH_TIMEOUT=${FABRIC_BATCH_TIMEOUT:-20ms}
BATCH_MAX_COUNT=${FABRIC_BATCH_MAX_COUNT:-200}
BATCH_PREFERRED_MAX_BYTES=${FABRIC_BATCH_PREFERRED_MAX_BYTES:-2 MB}
BATCH_ABSOLUTE_MAX_BYTES=${FABRIC_BATCH_ABSOLUTE_MAX_BYTES:-10 MB}

# The network description (organizations, channels, facades, endorsement
# policy): the file FABRIC_NETWORK names; else the copy that network-up.sh
# keeps of the running network's ($STATE/network.env), so that the admin
# scripts act on the network as it was started; else networks/default.env.
# See that file for the format.
if [ -n "${FABRIC_NETWORK:-}" ]; then
	NETWORK_FILE=$FABRIC_NETWORK
elif [ -r "$STATE/network.env" ]; then
	NETWORK_FILE=$STATE/network.env
else
	NETWORK_FILE=$NETWORK_DIR/networks/default.env
fi
[ -r "$NETWORK_FILE" ] || { echo "FABRIC_NETWORK: cannot read $NETWORK_FILE" >&2; exit 2; }
ORGS="" CHANNELS="" FACADES="" ENDORSEMENT=""
# shellcheck disable=SC1090
source "$NETWORK_FILE"
read -r -a ORG_MSPIDS <<<"$ORGS"
read -r -a FACADE_ADDRS <<<"$FACADES"
NORGS=${#ORG_MSPIDS[@]}
netdie() { echo "network description $NETWORK_FILE: $*" >&2; exit 2; }
[ "$NORGS" -ge 2 ] && [ "$NORGS" -le 3 ] || netdie "ORGS must name 2 or 3 organizations, not ${NORGS}"
[ ${#FACADE_ADDRS[@]} = "$NORGS" ] || netdie "FACADES must give one address per organization (${NORGS}), not ${#FACADE_ADDRS[@]}"
for _m in "${ORG_MSPIDS[@]}"; do
	[[ $_m =~ ^[A-Za-z][A-Za-z0-9-]*MSP$ ]] || netdie "MSP id $_m: letters, digits and dashes ending in MSP"
	[ "$_m" != OrdererMSP ] || netdie "OrdererMSP is the orderer's organization"
done
[ "$(printf '%s\n' "${ORG_MSPIDS[@]}" | sort -u | wc -l)" = "$NORGS" ] || netdie "an MSP id is listed twice in ORGS"
# CHANNEL_NAMES: the channels in order; CHANNEL_MEMBERS[name]: their
# member organizations' numbers (1-based, space-separated).
CHANNEL_NAMES=()
declare -A CHANNEL_MEMBERS=()
for _c in $CHANNELS; do
	_name=${_c%%=*}
	[[ $_c == *=* ]] || netdie "channel $_c: NAME=MSPID,MSPID,..."
	[[ $_name =~ ^[a-z][a-z0-9.-]{0,48}$ ]] || netdie "channel name $_name: lowercase letters, digits, dots and dashes"
	[ -z "${CHANNEL_MEMBERS[$_name]+x}" ] || netdie "channel $_name is listed twice"
	_nums=""
	IFS=, read -r -a _mems <<<"${_c#*=}"
	for _m in "${_mems[@]}"; do
		_found=""
		for ((_i = 0; _i < NORGS; _i++)); do [ "${ORG_MSPIDS[_i]}" = "$_m" ] && _found=$((_i + 1)); done
		[ -n "$_found" ] || netdie "channel $_name: $_m is not in ORGS"
		_nums="$_nums $_found"
	done
	[ "$(wc -w <<<"$_nums")" -ge 1 ] || netdie "channel $_name has no member"
	CHANNEL_NAMES+=("$_name")
	CHANNEL_MEMBERS[$_name]=${_nums# }
done
[ ${#CHANNEL_NAMES[@]} -ge 1 ] || netdie "CHANNELS names no channel"
# CHANNEL: the main channel, where the parity and e2e suites run.
CHANNEL=${CHANNEL_NAMES[0]}
# The chaincode's endorsement policy on every channel: a majority of the
# channel's organizations ("majority", the default) or any one ("any").
case ${FABRIC_ENDORSEMENT:-${ENDORSEMENT:-majority}} in
majority) ENDORSEMENT_RULE="MAJORITY Endorsement" ;;
any) ENDORSEMENT_RULE="ANY Endorsement" ;;
*) netdie "the endorsement policy must be majority or any, not ${FABRIC_ENDORSEMENT:-$ENDORSEMENT}" ;;
esac
unset _m _c _name _nums _mems _found _i
# How the chaincode runs: "service" (ccaas: a server the peers dial) or
# "peer" (the peers launch the binary through builders/binary).
CC_MODE=${FABRIC_CHAINCODE_MODE:-service}
BINARY_BUILDER=$NETWORK_DIR/builders/binary

# Loopback ports.
ORDERER_PORT=7050
ORDERER_ADMIN_PORT=7053
ORDERER_OPS_PORT=8443
# Peer N (1, 2 or 3): its gateway, chaincode and operations ports.
PEER_PORTS=(7051 9051 11051)
PEER_CC_PORTS=(7052 9052 11052)
PEER_OPS_PORTS=(9444 9445 9446)
CC_SERVER_PORT=${FABRIC_CC_PORT:-9998}
# Go's pprof of the orderer and the peers (FABRIC_PROFILE=1).
ORDERER_PROFILE_PORT=6060
PEER_PROFILE_PORTS=(6061 6062 6063)
PROFILE_ENABLED=false
[ "${FABRIC_PROFILE:-0}" = 1 ] && PROFILE_ENABLED=true

CRYPTO=$STATE/crypto
ORDERER_ORG=$CRYPTO/ordererOrganizations/orderer.fedchain.test
ORDERER_CRYPTO=$ORDERER_ORG/orderers/orderer0.orderer.fedchain.test
ORDERER_TLS_CA=$ORDERER_CRYPTO/tls/ca.crt

log() { printf '[fabric %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# org_msp N: the MSP id of organization N (1-based, in the order of ORGS).
org_msp() { echo "${ORG_MSPIDS[$1 - 1]}"; }
# org_name N: its name in cryptogen's config (the MSP id without "MSP").
org_name() { local m; m=$(org_msp "$1"); echo "${m%MSP}"; }
# org_domain N: its domain (the name lowercased, under fedchain.test).
org_domain() { echo "$(org_name "$1" | tr '[:upper:]' '[:lower:]').fedchain.test"; }
# org_dir N: the crypto folder of peer organization N.
org_dir() { echo "$CRYPTO/peerOrganizations/$(org_domain "$1")"; }
peer_host() { echo "peer0.$(org_domain "$1")"; }
peer_crypto() { echo "$(org_dir "$1")/peers/$(peer_host "$1")"; }
peer_port() { echo "${PEER_PORTS[$1 - 1]}"; }
peer_tls_ca() { echo "$(peer_crypto "$1")/tls/ca.crt"; }
user_msp() { echo "$(org_dir "$1")/users/$2@$(org_domain "$1")/msp"; }
facade_addr() { echo "${FACADE_ADDRS[$1 - 1]}"; }
# org_channels N: the channels organization N is a member of, in order.
org_channels() {
	local c m out=()
	for c in "${CHANNEL_NAMES[@]}"; do
		for m in ${CHANNEL_MEMBERS[$c]}; do [ "$m" = "$1" ] && out+=("$c"); done
	done
	echo "${out[*]}"
}
# orgs: the organization numbers, 1 to NORGS.
orgs() { seq 1 "$NORGS"; }

# find_fabric_binaries sets PEER_BIN, ORDERER_BIN, CONFIGTXGEN_BIN,
# OSNADMIN_BIN, CRYPTOGEN_BIN and CCAAS_BUILDER from $FABRIC_BIN (a folder)
# or PATH, and MISSING to the names of those not found.
find_fabric_binaries() {
	MISSING=()
	local name var path
	# The Fabric release beside the repository (../shared/fabric, on every
	# developer machine and in CI) when FABRIC_BIN does not name one.
	if [ -z "${FABRIC_BIN:-}" ] && [ -x "$REPO_DIR/../shared/fabric/bin/peer" ]; then
		FABRIC_BIN=$(cd "$REPO_DIR/../shared/fabric/bin" && pwd)
	fi
	for name in peer orderer configtxgen osnadmin cryptogen; do
		path=""
		if [ -n "${FABRIC_BIN:-}" ] && [ -x "$FABRIC_BIN/$name" ]; then
			path=$FABRIC_BIN/$name
		elif command -v "$name" >/dev/null 2>&1; then
			path=$(command -v "$name")
		fi
		var=$(echo "${name}_BIN" | tr '[:lower:]' '[:upper:]')
		printf -v "$var" '%s' "$path"
		[ -n "$path" ] || MISSING+=("$name")
	done
	# The ccaas external builder: a folder with bin/detect, bin/build and
	# bin/release. Fabric's release archives put it in builders/ccaas next to
	# bin/.
	CCAAS_BUILDER=""
	local dir cands=()
	[ -n "${FABRIC_CCAAS_BUILDER:-}" ] && cands+=("$FABRIC_CCAAS_BUILDER")
	if [ -n "$PEER_BIN" ]; then
		dir=$(cd "$(dirname "$PEER_BIN")/.." && pwd)
		cands+=("$dir/builders/ccaas" "$dir/ccaas_builder")
	fi
	for dir in "${cands[@]}"; do
		if [ -x "$dir/bin/detect" ] && [ -x "$dir/bin/build" ] && [ -x "$dir/bin/release" ]; then
			CCAAS_BUILDER=$dir
			break
		fi
	done
	if [ "${FABRIC_RUNNER:-native}" = docker ]; then
		CCAAS_BUILDER=/opt/hyperledger/ccaas_builder # inside the peer image
		command -v docker >/dev/null 2>&1 || MISSING+=("docker")
	fi
	[ -n "$CCAAS_BUILDER" ] || MISSING+=("ccaas builder (bin/detect, bin/build, bin/release; set FABRIC_CCAAS_BUILDER)")
	command -v openssl >/dev/null 2>&1 || MISSING+=("openssl")
}

# render TEMPLATE OUT: writes TEMPLATE with its ${VAR}s replaced.
render() {
	envsubst "$(printf '${%s} ' PEER_NAME PEER_MSPID PEER_PORT PEER_CC_PORT PEER_OPS_PORT PEER_STATE PEER_CRYPTO \
		CCAAS_BUILDER BINARY_BUILDER ORDERER_PORT ORDERER_ADMIN_PORT ORDERER_OPS_PORT ORDERER_CRYPTO ORDERER_STATE \
		BATCH_TIMEOUT BATCH_MAX_COUNT BATCH_PREFERRED_MAX_BYTES BATCH_ABSOLUTE_MAX_BYTES \
		ENDORSEMENT_RULE PROFILE_ENABLED PEER_PROFILE_PORT ORDERER_PROFILE_PORT PEER_ORGANIZATIONS CHANNEL_PROFILES CRYPTO_PEER_ORGS)" <"$1" >"$2"
}

# peer_env N [USER]: the environment of the peer CLI acting as USER (Admin
# by default) of organization N against its peer.
peer_env() {
	local n=$1 user=${2:-Admin}
	echo FABRIC_CFG_PATH="$STATE/nodes/peer$n" \
		CORE_PEER_LOCALMSPID="$(org_msp "$n")" \
		CORE_PEER_MSPCONFIGPATH="$(user_msp "$n" "$user")" \
		CORE_PEER_ADDRESS="127.0.0.1:$(peer_port "$n")" \
		CORE_PEER_TLS_ENABLED=true \
		CORE_PEER_TLS_ROOTCERT_FILE="$(peer_tls_ca "$n")"
}

# as_org N CMD...: runs CMD as organization N's admin.
as_org() {
	local n=$1
	shift
	env $(peer_env "$n") "$@"
}

# start NAME CMD...: starts CMD in the background, logging to
# $STATE/logs/NAME.log, and records its pid in $STATE/pids/NAME.pid. With
# FABRIC_RUNNER=docker the orderer, the peers and the chaincode server run
# as the docker-compose.yaml service NAME instead (pid file "docker:NAME"),
# their logs followed into the same log file.
start() {
	local name=$1
	shift
	mkdir -p "$STATE/logs" "$STATE/pids"
	if [ "${FABRIC_RUNNER:-native}" = docker ] && [[ $name =~ ^(orderer0|peer1|peer2|chaincode)$ ]]; then
		FABRIC_STATE=$STATE compose up -d "$name" >>"$STATE/logs/compose.log" 2>&1 || die "docker compose up $name failed"
		echo "docker:$name" >"$STATE/pids/$name.pid"
		nohup docker compose -f "$NETWORK_DIR/docker-compose.yaml" logs -f "$name" >"$STATE/logs/$name.log" 2>&1 &
		echo $! >"$STATE/pids/$name-logs.pid"
		return
	fi
	# How to start it again (restart-node.sh), for the fault tests.
	mkdir -p "$STATE/cmds"
	{
		printf 'export FABRIC_CFG_PATH=%q\n' "${FABRIC_CFG_PATH:-}"
		local kv
		while IFS= read -r kv; do printf 'export %q\n' "$kv"; done < <(env | grep -E '^CHAINCODE_' || true)
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	} >"$STATE/cmds/$name.sh"
	nohup "$@" >>"$STATE/logs/$name.log" 2>&1 &
	echo $! >"$STATE/pids/$name.pid"
}

compose() { docker compose -f "$NETWORK_DIR/docker-compose.yaml" "$@"; }

# wait_for DESC SECONDS CMD...: retries CMD every second until it succeeds.
wait_for() {
	local desc=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	die "timed out after ${secs}s waiting for $desc"
}

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# check_alive NAME: fails when the process NAME started has died.
check_alive() {
	local pid
	pid=$(cat "$STATE/pids/$1.pid" 2>/dev/null) || return 1
	if [[ $pid == docker:* ]]; then
		[ -n "$(FABRIC_STATE=$STATE compose ps --status running -q "${pid#docker:}" 2>/dev/null)" ]
		return
	fi
	kill -0 "$pid" 2>/dev/null || return 1
	# A killed process whose parent is gone stays a zombie until init
	# reaps it, which here may take a while: it is dead.
	[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}
