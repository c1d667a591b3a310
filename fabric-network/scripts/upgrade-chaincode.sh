#!/usr/bin/env bash
# Upgrades the orchestrator chaincode of the local network that
# network-up.sh started to a new version, the way the administrators of an
# existing network do it with chaincode-admin.sh (see the README):
#
#   upgrade-chaincode.sh VERSION [PORT]
#
#   1. package a ccaas package labelled orchestrator_VERSION whose server
#      listens on 127.0.0.1:PORT (default 9997), and start that server;
#   2. every organization's admin installs it on its peer;
#   3. on every channel, every member's admin approves the definition
#      VERSION with the channel's next sequence;
#   4. one member's admin commits it; the peers then call the new server,
#      and the old one is stopped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=${1:?usage: upgrade-chaincode.sh VERSION [PORT]}
port=${2:-9997}
[ -d "$STATE/chaincode" ] || die "no local network in $STATE"
admin() { "$NETWORK_DIR/scripts/chaincode-admin.sh" "$@" 2>>"$STATE/logs/lifecycle.log"; }
ccdir=$STATE/chaincode
label=${CC_NAME}_$version
pkg=$ccdir/$label.tar.gz

log "packaging $label (server on 127.0.0.1:$port)"
"$NETWORK_DIR/scripts/package-chaincode.sh" -o "$pkg" -l "$label" -a "127.0.0.1:$port" \
	-c "$ccdir/server.crt" -k "$ccdir/client.key" -K "$ccdir/client.crt" >"$ccdir/$label.txt"
package_id=$(sed -n 's/^package id: //p' "$ccdir/$label.txt")

log "starting the $label chaincode server"
CHAINCODE_SERVER_ADDRESS=127.0.0.1:$port CHAINCODE_ID=$package_id \
	CHAINCODE_TLS_KEY=$ccdir/server.key CHAINCODE_TLS_CERT=$ccdir/server.crt CHAINCODE_CLIENT_CA_CERT=$ccdir/client-ca.crt \
	start "chaincode-$version" "$STATE/bin/chaincode"
wait_for "the $label chaincode server" 30 port_open "127.0.0.1:$port"

for n in $(orgs); do
	log "$(org_msp "$n") admin: install $label"
	admin install "$pkg" -L "$n" >/dev/null || die "install on $(peer_host "$n") failed"
done
for ch in "${CHANNEL_NAMES[@]}"; do
	first=$(cut -d' ' -f1 <<<"${CHANNEL_MEMBERS[$ch]}")
	seq=$(admin next-sequence -L "$first" -C "$ch")
	for n in ${CHANNEL_MEMBERS[$ch]}; do
		log "$(org_msp "$n") admin: approve $CC_NAME $version sequence $seq on $ch"
		admin approve -L "$n" -C "$ch" -v "$version" -s "$seq" -i "$package_id" >/dev/null 2>&1 ||
			die "approve for $(org_msp "$n") on $ch failed: $(tail -3 "$STATE/logs/lifecycle.log")"
	done
	log "$(org_msp "$first") admin: commit $CC_NAME $version sequence $seq on $ch"
	admin commit -L "$first" -C "$ch" -v "$version" -s "$seq" >/dev/null 2>&1 ||
		die "commit on $ch failed: $(tail -3 "$STATE/logs/lifecycle.log")"
	for n in ${CHANNEL_MEMBERS[$ch]}; do
		wait_for "$version on $(peer_host "$n") ($ch)" 30 \
			eval 'admin committed -L "$n" -C "$ch" | grep -q "Version: $version, Sequence: $seq,"'
	done
done

# The previous server (network-up.sh's, or an earlier upgrade's) is no
# longer used.
for f in "$STATE"/pids/chaincode*.pid; do
	name=$(basename "$f" .pid)
	[ "$name" = "chaincode-$version" ] && continue
	pid=$(cat "$f")
	kill -TERM "$pid" 2>/dev/null || true
	rm -f "$f"
	log "stopped the old chaincode server $name"
done
echo "upgraded to $label ($package_id) on ${CHANNEL_NAMES[*]}"
