#!/usr/bin/env bash
# The chaincode lifecycle steps an organization's administrator runs on a
# Fabric network, existing or local, with the peer CLI:
#
#   chaincode-admin.sh install PACKAGE
#       install a chaincode package (package-chaincode.sh writes one) on
#       this organization's peer; prints the package id. Every organization
#       that endorses runs it, on each of its peers.
#   chaincode-admin.sh approve -C CHANNEL -v VERSION -s SEQUENCE -i PACKAGE_ID
#       approve the chaincode definition for this organization. Every
#       member organization of CHANNEL runs it (a majority at least, under
#       the default LifecycleEndorsement policy), with the same version and
#       sequence.
#   chaincode-admin.sh readiness -C CHANNEL -v VERSION -s SEQUENCE
#       which organizations approved that definition so far.
#   chaincode-admin.sh commit -C CHANNEL -v VERSION -s SEQUENCE -p HOST:PORT=TLS_CA_FILE...
#       commit the definition once enough organizations approved it: ONE
#       administrator runs it, once per channel, naming a peer of each
#       approving organization (-p, repeatable).
#   chaincode-admin.sh committed -C CHANNEL
#       the committed definition (version, sequence, approvals).
#   chaincode-admin.sh next-sequence -C CHANNEL
#       the sequence an upgrade must use: the committed one plus 1 (1 when
#       none is committed).
#
# An upgrade to a new version is the same steps with the new package, a
# new version and the next sequence: install, approve (every member),
# commit (one of them); the old definition serves until the commit.
#
# Who and where come from the peer CLI's own environment, as for any
# `peer` command: CORE_PEER_LOCALMSPID, CORE_PEER_MSPCONFIGPATH (the
# organization ADMIN's MSP folder), CORE_PEER_ADDRESS,
# CORE_PEER_TLS_ROOTCERT_FILE (TLS is always on), FABRIC_CFG_PATH (a folder
# with the peer's core.yaml), plus ORDERER_ADDRESS and ORDERER_TLS_CA for
# approve and commit. With -L N it acts instead as the administrator of
# organization N of the local network that network-up.sh started
# ($FABRIC_STATE), and commit names the peers of the channel's members by
# itself. -n sets the chaincode name (default orchestrator); the peer
# binary is $FABRIC_BIN/peer or peer on PATH.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
cmd=$1
shift
channel="" version="" sequence="" package_id="" local_org="" name=$CC_NAME peers=()
pkg=""
if [ "$cmd" = install ]; then
	[ $# -ge 1 ] || usage
	pkg=$1
	shift
fi
while getopts "C:v:s:i:p:L:n:h" opt; do
	case $opt in
	C) channel=$OPTARG ;;
	v) version=$OPTARG ;;
	s) sequence=$OPTARG ;;
	i) package_id=$OPTARG ;;
	p) peers+=("$OPTARG") ;;
	L) local_org=$OPTARG ;;
	n) name=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

find_fabric_binaries
[ -n "$PEER_BIN" ] || die "no peer binary: set FABRIC_BIN"

if [ -n "$local_org" ]; then
	[[ $local_org =~ ^[1-9]$ ]] && [ "$local_org" -le "$NORGS" ] || die "-L: organization 1 to $NORGS"
	[ -d "$STATE/nodes/peer$local_org" ] || die "no local network in $STATE (network-up.sh)"
	# shellcheck disable=SC2046
	export $(peer_env "$local_org")
	ORDERER_ADDRESS=127.0.0.1:$ORDERER_PORT
	ORDERER_TLS_CA=$ORDERER_TLS_CA
	if [ "$cmd" = commit ] && [ ${#peers[@]} -eq 0 ] && [ -n "$channel" ]; then
		[ -n "${CHANNEL_MEMBERS[$channel]+x}" ] || die "the network has no channel $channel"
		for n in ${CHANNEL_MEMBERS[$channel]}; do peers+=("127.0.0.1:$(peer_port "$n")=$(peer_tls_ca "$n")"); done
	fi
fi
for v in CORE_PEER_LOCALMSPID CORE_PEER_MSPCONFIGPATH CORE_PEER_ADDRESS CORE_PEER_TLS_ROOTCERT_FILE FABRIC_CFG_PATH; do
	[ -n "${!v:-}" ] || die "$v is not set (or use -L N for the local network)"
done
export CORE_PEER_TLS_ENABLED=true
need() { for v in "$@"; do [ -n "${!v}" ] || die "$cmd needs -$(case $v in channel) echo C ;; version) echo v ;; sequence) echo s ;; package_id) echo i ;; esac)"; done; }
orderer() {
	[ -n "${ORDERER_ADDRESS:-}" ] && [ -n "${ORDERER_TLS_CA:-}" ] || die "$cmd needs ORDERER_ADDRESS and ORDERER_TLS_CA (or -L N)"
	echo -o "$ORDERER_ADDRESS" --tls --cafile "$ORDERER_TLS_CA"
}

case $cmd in
install)
	[ -r "$pkg" ] || die "cannot read package $pkg"
	out=$("$PEER_BIN" lifecycle chaincode install "$pkg" 2>&1) || {
		# Installing a package twice is no error for the administrator.
		grep -q "chaincode already successfully installed" <<<"$out" || die "install failed: $out"
	}
	"$PEER_BIN" lifecycle chaincode calculatepackageid "$pkg"
	;;
approve)
	need channel version sequence package_id
	# shellcheck disable=SC2046
	"$PEER_BIN" lifecycle chaincode approveformyorg $(orderer) --channelID "$channel" --name "$name" \
		--version "$version" --sequence "$sequence" --package-id "$package_id"
	;;
readiness)
	need channel version sequence
	"$PEER_BIN" lifecycle chaincode checkcommitreadiness --channelID "$channel" --name "$name" \
		--version "$version" --sequence "$sequence" --output json
	;;
commit)
	need channel version sequence
	[ ${#peers[@]} -gt 0 ] || die "commit needs -p HOST:PORT=TLS_CA_FILE for a peer of each approving organization"
	pflags=()
	for p in "${peers[@]}"; do pflags+=(--peerAddresses "${p%%=*}" --tlsRootCertFiles "${p#*=}"); done
	# shellcheck disable=SC2046
	"$PEER_BIN" lifecycle chaincode commit $(orderer) --channelID "$channel" --name "$name" \
		--version "$version" --sequence "$sequence" "${pflags[@]}"
	;;
committed)
	need channel
	"$PEER_BIN" lifecycle chaincode querycommitted --channelID "$channel" --name "$name"
	;;
next-sequence)
	need channel
	if out=$("$PEER_BIN" lifecycle chaincode querycommitted --channelID "$channel" --name "$name" --output json 2>&1); then
		seq=$(grep -o '"sequence": *[0-9]*' <<<"$out" | grep -o '[0-9]*$')
		echo $((seq + 1))
	elif grep -q "namespace $name is not defined" <<<"$out"; then
		echo 1
	else
		die "querycommitted failed: $out"
	fi
	;;
*) usage ;;
esac
