#!/usr/bin/env bash
# The Fabric test suite. For each network description of
# FABRIC_TEST_NETWORKS (default: "default three-orgs", files of
# fabric-network/networks/) it brings a fresh network up (network-up.sh),
# runs tests against it and tears it down:
#
#   default (2 organizations, 1 channel): the whole suite
#     - e2e/ against the first organization's facade (E2E_ADDR) and, for
#       its cross-organization parts, the second's (E2E_ADDR2);
#     - fabric-network/parity: solo and Fabric answer alike, the gateway's
#       event stream, the facades, TestNetworkChannels;
#     - the fault tests (FABRIC_FAULTS=1): kill -9 and restart of a peer,
#       the orderer and a facade under load;
#   any other (three-orgs: 3 organizations with their own MSP ids, 2
#   channels, one without the third organization): a short suite
#     - TestNetworkChannels (each organization on its channels, refused on
#       the others and on a channel the network does not have, a small
#       workflow per channel);
#     - a chaincode upgrade to version 1.1 with the administrators' scripts
#       (upgrade-chaincode.sh), then TestNetworkChannels again.
#
# Without Fabric binaries it prints a SKIPPED line and exits 0; with
# FABRIC_REQUIRED=1 (CI) that, and any skipped parity test other than the
# throughput measurements, or an e2e suite with no test passing, fails.
# FABRIC_BENCH=1 also measures submit throughput (see parity/throughput_test.go).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
required=${FABRIC_REQUIRED:-0}

find_fabric_binaries
if [ ${#MISSING[@]} -gt 0 ]; then
	if [ "$required" = 1 ]; then
		echo "FAIL: fabric binaries not found (${MISSING[*]}) and FABRIC_REQUIRED=1: the Fabric suite cannot be skipped here" >&2
		exit 1
	fi
	echo "SKIPPED: fabric binaries not found (${MISSING[*]}); set FABRIC_BIN to the folder holding them"
	exit 0
fi

cd "$REPO_DIR"
logs=${TMPDIR:-/tmp}/fedchain-test-fabric-logs
rm -rf "$logs"
mkdir -p "$logs"

# gotest NAME ARGS...: go test -v ARGS, its output in $logs/NAME.log; a
# summary line per test; fails when a test failed, or, with
# FABRIC_REQUIRED=1, was skipped (the throughput measurements aside).
gotest() {
	local name=$1 status=0
	shift
	go test -count=1 -v "$@" >"$logs/$name.log" 2>&1 || status=1
	grep -E '^--- (PASS|FAIL|SKIP)' "$logs/$name.log" | sed "s/^/$name /" || true
	if [ $status -ne 0 ]; then
		grep -E '^\s+\S+_test.go:[0-9]+:|^(FAIL|panic)' "$logs/$name.log" | head -15
		return 1
	fi
	if [ "$required" = 1 ] && grep -E '^--- SKIP' "$logs/$name.log" | grep -vqE 'Throughput'; then
		echo "$name: a test was skipped and FABRIC_REQUIRED=1"
		return 1
	fi
}

# suite_default: the whole suite, on a network of description $1.
suite_default() {
	local status=0 tests name result passed=0
	# One process per test: each gets its own key space (the suite draws a
	# run id per process) on the shared ledger. TestWorkflow goes first: it
	# works every task waiting for its organizations on the whole ledger, so
	# the tasks that other tests leave waiting would be its too.
	tests=$(go test -list '.*' ./cmd/orchestrator/e2e/ | grep '^Test' | awk '$0 == "TestWorkflow" {print; next} {rest = rest $0 "\n"} END {printf "%s", rest}' || true)
	[ -n "$tests" ] || { echo "e2e: cannot list the tests"; status=1; }
	for name in $tests; do
		E2E_ADDR=$(facade_addr 1) E2E_ADDR2=$(facade_addr 2) E2E_CHANNEL=$CHANNEL \
			go test -count=1 -timeout 20m -run "^$name\$" -v ./cmd/orchestrator/e2e/ >"$logs/e2e-$name.log" 2>&1 || status=1
		result=$(grep -E "^--- (PASS|FAIL|SKIP): $name " "$logs/e2e-$name.log" | head -1 | cut -d' ' -f2 | tr -d :)
		echo "e2e $name: ${result:-FAIL (see $logs/e2e-$name.log)}"
		[ "$result" = PASS ] && passed=$((passed + 1))
		if [ "$result" = FAIL ]; then grep -E "_test.go:[0-9]+:" "$logs/e2e-$name.log" | head -5; fi
	done
	if [ "$required" = 1 ] && [ $passed -eq 0 ]; then
		echo "e2e: no test passed against the facades and FABRIC_REQUIRED=1"
		status=1
	fi
	# After e2e: these tests leave tasks waiting, which TestWorkflow would
	# run. The fault tests last: they kill and restart the network's nodes.
	FABRIC_ENV=$STATE/env gotest parity -timeout 10m -skip '^TestFault' ./fabric-network/parity/ || status=1
	FABRIC_ENV=$STATE/env FABRIC_FAULTS=1 gotest faults -timeout 15m -run '^TestFault' ./fabric-network/parity/ || status=1
	return $status
}

# suite_short: the short suite, on a network of description $1.
suite_short() {
	local status=0
	FABRIC_ENV=$STATE/env gotest channels -timeout 5m -run '^TestNetworkChannels$' ./fabric-network/parity/ || status=1
	if "$NETWORK_DIR/scripts/upgrade-chaincode.sh" 1.1 >"$logs/upgrade.log" 2>&1; then
		echo "upgrade to 1.1: $(tail -1 "$logs/upgrade.log")"
		FABRIC_ENV=$STATE/env gotest channels-after-upgrade -timeout 5m -run '^TestNetworkChannels$' ./fabric-network/parity/ || status=1
	else
		echo "upgrade to 1.1: FAIL"
		tail -5 "$logs/upgrade.log"
		status=1
	fi
	return $status
}

overall=0
for net in ${FABRIC_TEST_NETWORKS:-default three-orgs}; do
	file=$net
	[[ $file == */* ]] || file=$NETWORK_DIR/networks/$net.env
	echo "=== network $net ($file)"
	start=$SECONDS
	# Each network in a subshell: lib.sh reads its description.
	(
		export FABRIC_NETWORK=$file
		source "$NETWORK_DIR/scripts/lib.sh"
		"$NETWORK_DIR/scripts/network-up.sh" >"$logs/network-up-$net.log" 2>&1 || {
			tail -20 "$logs/network-up-$net.log"
			exit 1
		}
		trap '"$NETWORK_DIR/scripts/network-down.sh" --keep-logs >/dev/null 2>&1; rm -rf "$logs/nodes-'"$net"'"; mv "$STATE/logs" "$logs/nodes-'"$net"'" 2>/dev/null; rm -rf "$STATE"' EXIT
		if [ "$net" = default ]; then suite_default; else suite_short; fi
	) || {
		overall=1
		echo "network $net: FAIL (logs in $logs)"
	}
	echo "network $net: $((SECONDS - start)) s"
done
if [ $overall -ne 0 ]; then
	echo "FAIL: fabric tests (logs kept in $logs)"
	exit 1
fi
echo "PASS: fabric tests (logs in $logs)"
