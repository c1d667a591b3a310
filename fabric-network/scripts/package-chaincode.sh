#!/usr/bin/env bash
# Writes a chaincode-as-a-service (ccaas) package of the orchestrator
# chaincode and prints its label and package id.
#
#   package-chaincode.sh [-o FILE] [-l LABEL] [-a HOST:PORT] [-c ROOT_CERT_PEM]
#                        [-k CLIENT_KEY_PEM -K CLIENT_CERT_PEM] [-t DIAL_TIMEOUT]
#   package-chaincode.sh -b BINARY [-o FILE] [-l LABEL]
#
#   -o  package file to write (default: bin/orchestrator-ccaas.tar.gz)
#   -l  package label (default: orchestrator_1.0)
#   -a  address at which peers reach the chaincode server (default: 127.0.0.1:9998)
#   -c  PEM certificate of the CA of the chaincode server's TLS certificate;
#       when given the peer dials the server with TLS, else in clear text
#   -k, -K  key and certificate the peer presents to the chaincode server
#       (mutual TLS; the server must trust their CA: CHAINCODE_CLIENT_CA_CERT)
#   -t  how long a peer waits to connect (default: 10s)
#   -b  instead, package this chaincode binary (built from cmd/chaincode) for
#       peers that launch it themselves: type "orchestrator-binary", for the
#       external builder in fabric-network/builders/binary
#
# A ccaas package holds no code: a gzipped tar with metadata.json
# ({"type":"ccaas","label":...}) and code.tar.gz, itself a gzipped tar with
# connection.json (where and how to dial the server). The tars are built
# reproducibly (sorted, zero times and owners), so the same inputs give the
# same package id: LABEL:sha256-of-the-package-file, as `peer lifecycle
# chaincode install` reports it. Output lines:
#   label: LABEL
#   package id: LABEL:HEX
#   package: FILE
set -euo pipefail

out=bin/orchestrator-ccaas.tar.gz
label=orchestrator_1.0
address=127.0.0.1:9998
root_cert=""
client_key=""
client_cert=""
dial_timeout=10s
binary=""
while getopts "o:l:a:c:k:K:t:b:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	l) label=$OPTARG ;;
	a) address=$OPTARG ;;
	c) root_cert=$OPTARG ;;
	k) client_key=$OPTARG ;;
	K) client_cert=$OPTARG ;;
	t) dial_timeout=$OPTARG ;;
	b) binary=$OPTARG ;;
	*)
		sed -n '2,21s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done

if ! [[ $label =~ ^[[:alnum:]][[:alnum:]_.+-]*$ ]]; then
	echo "invalid label $label: letters, digits and _.+- only, starting with a letter or digit" >&2
	exit 2
fi
for tool in tar gzip jq sha256sum; do
	command -v "$tool" >/dev/null || { echo "package-chaincode: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/code" "$work/pkg"

# reproducible_tgz DIR OUT MODE FILE...: a gzipped tar of FILEs of DIR with
# no times, owners or folder entries, every file with MODE.
reproducible_tgz() {
	local dir=$1 dest=$2 mode=$3
	shift 3
	tar -C "$dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode="$mode" \
		--format=ustar -cf - "$@" | gzip -n -9 >"$dest"
}

if [ -n "$binary" ]; then
	# A prebuilt binary that the peer launches (builders/binary).
	[ -x "$binary" ] || { echo "package-chaincode: $binary is not an executable" >&2; exit 2; }
	type=orchestrator-binary
	cp "$binary" "$work/code/chaincode"
	reproducible_tgz "$work/code" "$work/pkg/code.tar.gz" 0755 chaincode
else
	# Chaincode-as-a-service: where and how the peer dials the server.
	type=ccaas
	if [ -n "$client_key$client_cert" ] && { [ -z "$client_key" ] || [ -z "$client_cert" ] || [ -z "$root_cert" ]; }; then
		echo "package-chaincode: mutual TLS needs -c, -k and -K" >&2
		exit 2
	fi
	if [ -n "$client_key" ]; then
		jq -n --arg a "$address" --arg t "$dial_timeout" --rawfile ca "$root_cert" \
			--rawfile key "$client_key" --rawfile cert "$client_cert" \
			'{address: $a, dial_timeout: $t, tls_required: true, client_auth_required: true,
			  root_cert: $ca, client_key: $key, client_cert: $cert}' >"$work/code/connection.json"
	elif [ -n "$root_cert" ]; then
		jq -n --arg a "$address" --arg t "$dial_timeout" --rawfile ca "$root_cert" \
			'{address: $a, dial_timeout: $t, tls_required: true, client_auth_required: false, root_cert: $ca}' \
			>"$work/code/connection.json"
	else
		jq -n --arg a "$address" --arg t "$dial_timeout" \
			'{address: $a, dial_timeout: $t, tls_required: false}' >"$work/code/connection.json"
	fi
	reproducible_tgz "$work/code" "$work/pkg/code.tar.gz" 0644 connection.json
fi
jq -n --arg t "$type" --arg l "$label" '{type: $t, label: $l}' >"$work/pkg/metadata.json"
mkdir -p "$(dirname "$out")"
reproducible_tgz "$work/pkg" "$out" 0644 metadata.json code.tar.gz

hash=$(sha256sum "$out" | cut -d' ' -f1)
echo "label: $label"
echo "package id: $label:$hash"
echo "package: $out"
